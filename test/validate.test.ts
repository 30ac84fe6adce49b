// `npm run validate` end to end, with the real kustomize and kubeconform: the repository's own
// overlays pass clean, findings name the file that set the field, kustomize errors name the
// overlay and the file, and every exit code means what the docs say.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { ORIGIN_ANNOTATION, renderOverlays } from '../scripts/lib/model/render.ts';
import type { JsonFinding } from '../scripts/lib/report/format-json.ts';
import { defaultTargets } from '../scripts/lib/validate/targets.ts';
import { runScript } from './helpers/run.ts';
import { useTempDirs } from './helpers/tmp.ts';

const tempDir = useTempDirs();
const TIMEOUT = 60_000;

/** An overlay in a temporary directory on top of the repository's base. */
async function overlayOnBase(files: Record<string, string>): Promise<string> {
  const dir = path.join(await tempDir(), 'broken-overlay');
  const base = path.relative(dir, path.join(REPO_ROOT, 'base'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text.replaceAll('BASE', base));
  }
  return dir;
}

async function validateJson(args: string[]) {
  const out = await runScript('validate.ts', ['--format', 'json', ...args]);
  return { ...out, findings: out.exitCode !== 2 ? (JSON.parse(out.stdout) as JsonFinding[]) : [] };
}

describe('npm run validate', () => {
  it('passes the real overlays and sync kustomizations clean', { timeout: TIMEOUT }, async () => {
    const out = await runScript('validate.ts', []);
    expect(out.stderr).not.toMatch(/internal error/);
    expect(out.stdout).toMatch(/^deployment-ip: \d+ objects, ok$/m);
    expect(out.stdout).toMatch(/^statefulset-hostname-pvc: \d+ objects, ok$/m);
    expect(out.stdout).toMatch(/^single-node: \d+ objects, ok$/m);
    expect(out.stdout).toMatch(/^gitops\/argocd: \d+ objects, ok$/m);
    expect(out.stdout).toMatch(/: 0 errors, 0 warnings\n$/);
    expect(out.exitCode).toBe(0);
  });

  it('names the patch file and line for a patched field, and the base file for a base field', { timeout: TIMEOUT }, async () => {
    const dir = await overlayOnBase({
      'kustomization.yaml': 'namespace: emqx-broken\nresources:\n  - BASE\npatches:\n  - path: patches/statefulset-host.yaml\n  - path: patches/role.yaml\n',
      // A JSON patch keeps env order; it sets a host that discovery does not compute.
      'patches/statefulset-host.yaml': [
        '- op: test',
        '  path: /spec/template/spec/containers/0/env/3/name',
        '  value: EMQX_HOST',
        '- op: replace',
        '  path: /spec/template/spec/containers/0/env/3/value',
        '  value: $(POD_NAME).wrong-service',
        '',
      ].join('\n'),
      'patches/role.yaml': 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: emqx-discovery\nrules:\n  - apiGroups: [""]\n    resources: ["endpoints"]\n    verbs: ["get"]\n',
    });
    // The JSON patch needs a target.
    await writeFile(
      path.join(dir, 'kustomization.yaml'),
      `namespace: emqx-broken\nresources:\n  - ${path.relative(dir, path.join(REPO_ROOT, 'base'))}\npatches:\n  - path: patches/statefulset-host.yaml\n    target: {kind: StatefulSet, name: emqx}\n  - path: patches/role.yaml\n`,
    );
    const { exitCode, findings } = await validateJson([dir]);
    expect(exitCode).toBe(1);
    const host = findings.find((f) => f.rule === 'emqx/discovery');
    expect(host).toMatchObject({
      overlay: 'broken-overlay',
      kind: 'StatefulSet',
      name: 'emqx',
      namespace: 'emqx-broken',
      file: path.join(dir, 'patches', 'statefulset-host.yaml'),
      path: 'spec.template.spec.containers[emqx].env[EMQX_HOST]',
    });
    expect(readFileSync(host!.file!, 'utf8').split('\n')[host!.line! - 1]).toContain('EMQX_HOST');
    const rbac = findings.find((f) => f.rule === 'emqx/discovery-rbac');
    // The finding is on the StatefulSet, which the base writes.
    expect(rbac).toMatchObject({ kind: 'StatefulSet', file: 'base/statefulset.yaml' });
    expect(findings.every((f) => f.severity === 'error' && f.message.includes('Fix: '))).toBe(true);
  });

  it('finds public defaults in a committed secretGenerator, at its literal, and never prints a value', { timeout: TIMEOUT }, async () => {
    const dir = await overlayOnBase({
      'kustomization.yaml': [
        'namespace: emqx-secret-in-git',
        'resources:',
        '  - BASE',
        'secretGenerator:',
        '  - name: emqx-secrets',
        '    literals:',
        '      - node-cookie=emqxsecretcookie',
        '      - dashboard-password=public',
        '',
      ].join('\n'),
    });
    const { exitCode, stdout, findings } = await validateJson([dir]);
    expect(exitCode).toBe(1);
    const at = (rule: string) => findings.find((f) => f.rule === rule);
    expect(at('emqx/cookie')).toMatchObject({ kind: 'Secret', severity: 'error', file: path.join(dir, 'kustomization.yaml'), line: 7, path: 'data.node-cookie' });
    expect(at('emqx/dashboard-password')).toMatchObject({ kind: 'Secret', severity: 'error', file: path.join(dir, 'kustomization.yaml'), line: 8, path: 'data.dashboard-password' });
    expect(at('security/secret-in-git')).toMatchObject({ kind: 'Secret', severity: 'warning', file: path.join(dir, 'kustomization.yaml'), path: 'data' });
    const text = (await runScript('validate.ts', [dir])).stdout;
    for (const out of [stdout, text]) {
      for (const value of ['emqxsecretcookie', Buffer.from('emqxsecretcookie').toString('base64'), Buffer.from('public').toString('base64')]) expect(out).not.toContain(value);
    }
  });

  it('reports a schema violation at its field, strictly', { timeout: TIMEOUT }, async () => {
    const dir = await overlayOnBase({
      'kustomization.yaml': 'namespace: emqx-schema\nresources:\n  - BASE\npatches:\n  - path: patches/service.yaml\n',
      'patches/service.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: emqx\nspec:\n  sessionAffinty: ClientIP\n',
    });
    const { exitCode, findings } = await validateJson([dir]);
    expect(exitCode).toBe(1);
    expect(findings.filter((f) => f.rule === 'schema')).toEqual([
      expect.objectContaining({ kind: 'Service', name: 'emqx', file: 'base/service.yaml', severity: 'error', message: expect.stringMatching(/sessionAffinty/) }),
    ]);
  });

  it('passes kustomize errors on with the overlay and the file named', { timeout: TIMEOUT }, async () => {
    const tab = await overlayOnBase({
      'kustomization.yaml': 'resources:\n  - BASE\n  - configmap.yaml\n',
      'configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tabbed\n',
    });
    const missing = path.join(await tempDir(), 'missing-file');
    await mkdir(missing);
    await writeFile(path.join(missing, 'kustomization.yaml'), 'resources:\n  - service.yaml\n');
    // With a good overlay in the same batch: it is still checked, and clean.
    const out = await runScript('validate.ts', [tab, missing, 'overlays/single-node']);
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toMatch(/^single-node: [1-9]\d* objects, ok$/m);
    expect(out.stdout).toContain(`error [render] Kustomization broken-overlay (${path.join(tab, 'configmap.yaml')}:4)`);
    expect(out.stdout).toMatch(/fix: a tab character in YAML indentation/);
    expect(out.stdout).toContain(`error [render] Kustomization missing-file (${path.join(missing, 'kustomization.yaml')})`);
    expect(out.stdout).toMatch(/service\.yaml: no such file or directory/);
    expect(out.stdout).toMatch(/fix: kustomization.yaml lists a file or directory that does not exist/);
    // The wrapper kustomization never shows through.
    expect(out.stdout).not.toMatch(/emqx-validate-/);
  });

  it('writes SARIF that points at repository files', { timeout: TIMEOUT }, async () => {
    const dir = await overlayOnBase({
      'kustomization.yaml': 'resources:\n  - BASE\nimages:\n  - name: emqx/emqx\n    newTag: latest\n',
    });
    const out = await runScript('validate.ts', ['--format', 'sarif', dir, 'overlays/single-node']);
    expect(out.exitCode).toBe(1);
    const sarif = JSON.parse(out.stdout);
    expect(sarif.version).toBe('2.1.0');
    const image = sarif.runs[0].results.find((r: { ruleId: string }) => r.ruleId === 'emqx/image');
    expect(image.locations[0].physicalLocation.artifactLocation.uri).toBe(`file://${path.join(dir, 'kustomization.yaml')}`);
    expect(image.locations[0].physicalLocation.region.startLine).toBe(5);
  });

  it('exits 2 with the fix, never a stack trace, on usage errors', { timeout: TIMEOUT }, async () => {
    for (const args of [['--format', 'xml'], ['--kubernetes-version', '1.99'], ['no/such/overlay'], ['--frobnicate']]) {
      const out = await runScript('validate.ts', args);
      expect(out.exitCode, args.join(' ')).toBe(2);
      expect(out.stderr).toMatch(/^error: /);
      expect(out.stderr).not.toMatch(/\n\s+at /);
    }
    expect((await runScript('validate.ts', ['--kubernetes-version', '1.99'])).stderr).toMatch(/Supported minors: .*1\.37/);
  });

  it('renders through render.ts: origins only when asked, so build output is unchanged', { timeout: TIMEOUT }, async () => {
    const kustomize = await findKustomize();
    const overlay = { name: 'single-node', dir: path.join(REPO_ROOT, 'overlays', 'single-node') };
    const [plain, traced] = await Promise.all([renderOverlays(kustomize, [overlay]), renderOverlays(kustomize, [overlay], { origins: true })]);
    expect(plain.rendered[0]!.yaml).not.toContain(ORIGIN_ANNOTATION);
    expect(traced.rendered[0]!.yaml).toContain(ORIGIN_ANNOTATION);
  });

  it('renders a batch of overlays in one kustomize process to the same output as one by one', { timeout: TIMEOUT }, async () => {
    const kustomize = await findKustomize();
    const overlays = defaultTargets();
    for (const origins of [false, true]) {
      const [alone, batched] = await Promise.all([renderOverlays(kustomize, overlays, { origins }), renderOverlays(kustomize, overlays, { origins, batch: true, concurrency: 2 })]);
      expect(batched.failures).toEqual([]);
      // Origin paths are relative to each wrapper directory: compare them resolved.
      const resolved = (r: { yaml: string; originRoot?: string }) => r.yaml.replace(/(origin: \|\n\s+(?:path|configuredIn): )(\S+)/g, (_, head, p) => `${head}${r.originRoot ? path.resolve(r.originRoot, p) : p}`);
      expect(batched.rendered.map(resolved)).toEqual(alone.rendered.map(resolved));
    }
  });
});
