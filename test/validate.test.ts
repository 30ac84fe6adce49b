// `npm run validate` end to end, with the real kustomize and kubeconform: the repository's own
// overlays pass clean, findings name the file that set the field, kustomize errors name the
// overlay and the file, and every exit code means what the docs say.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatOption, parseCommandLine } from '../scripts/lib/cli/cli.ts';
import { readInventory } from '../scripts/lib/fleet/inventory.ts';
import { selectOverlays } from '../scripts/lib/model/select-overlays.ts';
import { DEFAULT_KUBERNETES_VERSION } from '../scripts/lib/setup/schema-location.ts';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { ORIGIN_ANNOTATION, renderOverlays } from '../scripts/lib/model/render.ts';
import type { JsonFinding } from '../scripts/lib/report/format-json.ts';
import { defaultTargets } from '../scripts/lib/validate/targets.ts';
import { runScript, type CommandOutput } from './helpers/run.ts';
import { useSuiteTempDirs } from './helpers/tmp.ts';
import { asCommandError } from './helpers/user-error.ts';

const TIMEOUT = 60_000;
const USAGE = 'usage: npm run validate -- [--format text|json|sarif] [--kubernetes-version X.Y] [OVERLAY_DIR ...]';

/** An overlay in a temporary directory on top of the repository's base. */
async function overlayOnBase(parent: string, files: Record<string, string>, name = 'broken-overlay'): Promise<string> {
  const dir = path.join(parent, name);
  const base = path.relative(dir, path.join(REPO_ROOT, 'base'));
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text.replaceAll('BASE', base));
  }
  return dir;
}

async function validateJson(args: string[]) {
  const out = await runScript('validate.ts', ['--format', 'json', ...args]);
  return { ...out, findings: out.exitCode !== 2 ? (JSON.parse(out.stdout) as JsonFinding[]) : [] };
}

describe('npm run validate', () => {
  describe('with no arguments (one run)', () => {
    let out: CommandOutput;
    beforeAll(async () => {
      out = await runScript('validate.ts', []);
    }, TIMEOUT);

    it('passes the real overlays and sync kustomizations clean', () => {
      expect(out.stderr).not.toMatch(/internal error/);
      expect(out.stdout).toMatch(/^deployment-ip: \d+ objects, ok$/m);
      expect(out.stdout).toMatch(/^statefulset-hostname-pvc: \d+ objects, ok$/m);
      expect(out.stdout).toMatch(/^single-node: \d+ objects, ok$/m);
      expect(out.stdout).toMatch(/^gitops\/argocd: \d+ objects, ok$/m);
      expect(out.stdout).toMatch(/: 0 errors, 0 warnings\n$/);
      expect(out.exitCode).toBe(0);
    });

    // Was test/fleet.test.ts's own run of the same command.
    it('is clean on the example fleet and checks every cluster', () => {
      expect(out.exitCode, out.stdout + out.stderr).toBe(0);
      for (const c of readInventory().clusters) {
        expect(out.stdout).toMatch(new RegExp(`^${c.name}: \\d+ objects, ok$`, 'm'));
        expect(out.stdout).toMatch(new RegExp(`^gitops/flux/clusters/${c.name}: \\d+ objects, ok$`, 'm'));
      }
      expect(out.stdout).toMatch(/0 errors, 0 warnings/);
    });
  });

  // One run per output format, over the broken overlays of the tests below: each test reads the
  // findings of its own overlay. Every one of them has an error, so alone it would exit 1 too.
  describe('on broken overlays (one run per format)', () => {
    const suiteDir = useSuiteTempDirs();
    let patched: string;
    let secret: string;
    let schema: string;
    let tab: string;
    let missing: string;
    let image: string;
    let json: Awaited<ReturnType<typeof validateJson>>;
    let text: CommandOutput;
    let sarif: CommandOutput;
    const findingsOf = (overlay: string) => json.findings.filter((f) => f.overlay === overlay);

    beforeAll(async () => {
      patched = await overlayOnBase(await suiteDir(), {
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
        path.join(patched, 'kustomization.yaml'),
        `namespace: emqx-broken\nresources:\n  - ${path.relative(patched, path.join(REPO_ROOT, 'base'))}\npatches:\n  - path: patches/statefulset-host.yaml\n    target: {kind: StatefulSet, name: emqx}\n  - path: patches/role.yaml\n`,
      );
      secret = await overlayOnBase(
        await suiteDir(),
        {
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
        },
        'secret-in-git',
      );
      schema = await overlayOnBase(
        await suiteDir(),
        {
          'kustomization.yaml': 'namespace: emqx-schema\nresources:\n  - BASE\npatches:\n  - path: patches/service.yaml\n',
          'patches/service.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: emqx\nspec:\n  sessionAffinty: ClientIP\n',
        },
        'schema-violation',
      );
      tab = await overlayOnBase(await suiteDir(), {
        'kustomization.yaml': 'resources:\n  - BASE\n  - configmap.yaml\n',
        'configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tabbed\n',
      });
      missing = path.join(await suiteDir(), 'missing-file');
      await mkdir(missing);
      await writeFile(path.join(missing, 'kustomization.yaml'), 'resources:\n  - service.yaml\n');
      image = await overlayOnBase(await suiteDir(), {
        'kustomization.yaml': 'resources:\n  - BASE\nimages:\n  - name: emqx/emqx\n    newTag: latest\n',
      });
      [json, text, sarif] = await Promise.all([
        validateJson([patched, secret, schema]),
        // With a good overlay in the same batch: it is still checked, and clean.
        runScript('validate.ts', [tab, missing, secret, 'overlays/single-node']),
        runScript('validate.ts', ['--format', 'sarif', image, 'overlays/single-node']),
      ]);
    }, TIMEOUT);

    it('names the patch file and line for a patched field, and the base file for a base field', () => {
      expect(json.exitCode).toBe(1);
      const findings = findingsOf('broken-overlay');
      const host = findings.find((f) => f.rule === 'emqx/discovery');
      expect(host).toMatchObject({
        overlay: 'broken-overlay',
        kind: 'StatefulSet',
        name: 'emqx',
        namespace: 'emqx-broken',
        file: path.join(patched, 'patches', 'statefulset-host.yaml'),
        path: 'spec.template.spec.containers[emqx].env[EMQX_HOST]',
      });
      expect(readFileSync(host!.file!, 'utf8').split('\n')[host!.line! - 1]).toContain('EMQX_HOST');
      const rbac = findings.find((f) => f.rule === 'emqx/discovery-rbac');
      // The finding is on the StatefulSet, which the base writes.
      expect(rbac).toMatchObject({ kind: 'StatefulSet', file: 'base/statefulset.yaml' });
      expect(findings.every((f) => f.severity === 'error' && f.message.includes('Fix: '))).toBe(true);
    });

    it('finds public defaults in a committed secretGenerator, at its literal, and never prints a value', () => {
      expect(json.exitCode).toBe(1);
      const findings = findingsOf('secret-in-git');
      expect(findings.some((f) => f.severity === 'error')).toBe(true);
      const at = (rule: string) => findings.find((f) => f.rule === rule);
      expect(at('emqx/cookie')).toMatchObject({ kind: 'Secret', severity: 'error', file: path.join(secret, 'kustomization.yaml'), line: 7, path: 'data.node-cookie' });
      expect(at('emqx/dashboard-password')).toMatchObject({ kind: 'Secret', severity: 'error', file: path.join(secret, 'kustomization.yaml'), line: 8, path: 'data.dashboard-password' });
      expect(at('security/secret-in-git')).toMatchObject({ kind: 'Secret', severity: 'warning', file: path.join(secret, 'kustomization.yaml'), path: 'data' });
      // The text run checked the same overlay.
      expect(text.stdout).toMatch(/^secret-in-git: /m);
      for (const out of [json.stdout, text.stdout]) {
        for (const value of ['emqxsecretcookie', Buffer.from('emqxsecretcookie').toString('base64'), Buffer.from('public').toString('base64')]) expect(out).not.toContain(value);
      }
    });

    it('reports a schema violation at its field, strictly', () => {
      expect(json.exitCode).toBe(1);
      expect(findingsOf('schema-violation').filter((f) => f.rule === 'schema')).toEqual([
        expect.objectContaining({ kind: 'Service', name: 'emqx', file: 'base/service.yaml', severity: 'error', message: expect.stringMatching(/sessionAffinty/) }),
      ]);
    });

    it('passes kustomize errors on with the overlay and the file named', () => {
      const out = text;
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

    it('writes SARIF that points at repository files', () => {
      const out = sarif;
      expect(out.exitCode).toBe(1);
      const parsed = JSON.parse(out.stdout);
      expect(parsed.version).toBe('2.1.0');
      const found = parsed.runs[0].results.find((r: { ruleId: string }) => r.ruleId === 'emqx/image');
      expect(found.locations[0].physicalLocation.artifactLocation.uri).toBe(`file://${path.join(image, 'kustomization.yaml')}`);
      expect(found.locations[0].physicalLocation.region.startLine).toBe(5);
    });
  });

  it('exits 2 with the fix, never a stack trace, on usage errors', { timeout: TIMEOUT }, async () => {
    // One run shows the command's exit 2 and message; the other arguments call what it calls with them.
    const version = await runScript('validate.ts', ['--kubernetes-version', '1.99']);
    const variants = [
      ['--format xml', () => formatOption('xml', ['text', 'json', 'sarif'], USAGE)],
      ['no/such/overlay', () => selectOverlays(['no/such/overlay'], USAGE)],
      // validate's options, parsed as scripts/validate.ts parses them.
      ['--frobnicate', () => parseCommandLine(['--frobnicate'], { format: { type: 'string', default: 'text' }, 'kubernetes-version': { type: 'string', default: DEFAULT_KUBERNETES_VERSION }, help: { type: 'boolean', short: 'h' } }, USAGE)],
    ] as const;
    for (const [args, out] of [['--kubernetes-version 1.99', version], ...(await Promise.all(variants.map(async ([a, call]) => [a, await asCommandError(call)] as const)))] as const) {
      expect(out.exitCode, args).toBe(2);
      expect(out.stderr).toMatch(/^error: /);
      expect(out.stderr).not.toMatch(/\n\s+at /);
    }
    expect(version.stderr).toMatch(/Supported minors: .*1\.37/);
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
    // Every overlay and GitOps folder, and one of each shape of the rest: the fleet's 15 cluster
    // directories come in three (a region on production with its patches, an edge site with
    // components and a patch, a plain edge site), and fleet generate writes the 15 Flux cluster
    // folders from one template (gitops.test.ts holds them to it). Rendering all 37 four times
    // was a fifth of the suite; render-fleet.test.ts batches a fleet of identical ids both ways.
    const standIns = new Set(['eu-west', 'factory-stuttgart', 'store-0012', 'gitops/flux/clusters/store-0012']);
    const isFleetMember = (o: { dir: string }) => /[/\\](clusters)[/\\][^/\\]+$/.test(o.dir);
    const targets = defaultTargets();
    const overlays = targets.filter((o) => !isFleetMember(o) || standIns.has(o.name));
    expect(overlays.filter(isFleetMember).map((o) => o.name).sort()).toEqual([...standIns].sort());
    for (const origins of [false, true]) {
      const [alone, batched] = await Promise.all([renderOverlays(kustomize, overlays, { origins }), renderOverlays(kustomize, overlays, { origins, batch: true, concurrency: 2 })]);
      expect(batched.failures).toEqual([]);
      // Origin paths are relative to each wrapper directory: compare them resolved.
      const resolved = (r: { yaml: string; originRoot?: string }) => r.yaml.replace(/(origin: \|\n\s+(?:path|configuredIn): )(\S+)/g, (_, head, p) => `${head}${r.originRoot ? path.resolve(r.originRoot, p) : p}`);
      expect(batched.rendered.map(resolved)).toEqual(alone.rendered.map(resolved));
    }
  });
});
