// The pure pieces of `npm run validate`: env resolution, source tracing, config, formats.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../scripts/lib/cli/errors.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { validateRuleList } from '../scripts/lib/validate/rule-list.ts';
import { parseValidateConfig } from '../scripts/lib/validate/config.ts';
import { formatJson } from '../scripts/lib/report/format-json.ts';
import { formatSarif } from '../scripts/lib/report/format-sarif.ts';
import { formatText } from '../scripts/lib/report/format-text.ts';
import { RULES } from '../scripts/lib/validate/rules/index.ts';
import { renderFinding, type OverlayReport } from '../scripts/lib/validate/run.ts';
import { parseRendered } from '../scripts/lib/model/sources.ts';
import { pointerToPath, schemaFindings, tagNames, validateMany } from '../scripts/lib/validate/schema.ts';
import { splitByMark } from '../scripts/lib/model/render.ts';
import { kustomizationSources, SourceIndex } from '../scripts/lib/model/sources.ts';
import { listSyncKustomizations } from '../scripts/lib/validate/targets.ts';
import type { Finding } from '../scripts/lib/validate/types.ts';
import { useTempDirs } from './helpers/tmp.ts';
import { resolveEnv } from '../scripts/lib/model/env.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';

const tempDir = useTempDirs();

describe('resolveEnv', () => {
  const configMap: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'env', namespace: 'ns' }, data: { EMQX_NAME: 'broker', SUFFIX: 'svc.cluster.local' } };
  const container = {
    envFrom: [{ configMapRef: { name: 'env' } }],
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'EMQX_HOST', value: '$(POD_NAME).svc.$(NS).$(SUFFIX)' },
      { name: 'EMQX_NODE__NAME', value: '$(EMQX_NAME)@$(EMQX_HOST)$(LATER)$$(ESCAPED)' },
      { name: 'LATER', value: 'x' },
      { name: 'COOKIE', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
    ],
  };

  it('expands $(VAR) from envFrom and earlier env, with the downward API as placeholders', () => {
    const { vars } = resolveEnv(container, [configMap], 'ns');
    expect(vars.get('EMQX_HOST')?.value).toBe('⟨metadata.name⟩.svc.ns.svc.cluster.local');
    expect(vars.get('EMQX_NODE__NAME')?.value).toBe('broker@⟨metadata.name⟩.svc.ns.svc.cluster.local$(LATER)$(ESCAPED)');
    expect(vars.get('EMQX_NAME')?.origin).toEqual({ kind: 'configMap', name: 'env', key: 'EMQX_NAME' });
    expect(vars.get('COOKIE')?.origin).toEqual({ kind: 'secret', name: 's', key: 'k' });
  });

  it('reports a reference to a variable defined only later, and leaves $$ alone', () => {
    const { unexpanded } = resolveEnv(container, [configMap], 'ns');
    expect(unexpanded).toEqual([{ variable: 'EMQX_NODE__NAME', reference: 'LATER', definedLater: true, path: 'env[EMQX_NODE__NAME]' }]);
  });
});

describe('parseRendered', () => {
  it('takes the origin annotation off and resolves it against the wrapper directory', () => {
    const yaml = [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: a',
      '  annotations:',
      '    config.kubernetes.io/origin: |',
      '      path: ../repo/base/cm.yaml',
      '',
    ].join('\n');
    const [parsed] = parseRendered(yaml, '/tmp/wrapper');
    expect(parsed!.origin).toBe('/tmp/repo/base/cm.yaml');
    expect(parsed!.object.metadata.annotations).toBeUndefined();
  });
});

describe('source tracing', () => {
  it("lists the overlay's own patches before its bases' files", () => {
    const sources = kustomizationSources(path.join(REPO_ROOT, 'overlays', 'deployment-ip')).map((f) => path.relative(REPO_ROOT, f));
    expect(sources).toContain('overlays/deployment-ip/statefulset-to-deployment/patches/statefulset-address-ip.yaml');
    expect(sources.indexOf('overlays/deployment-ip/statefulset-to-deployment/patches/statefulset-address-ip.yaml')).toBeLessThan(sources.indexOf('base/kustomization.yaml'));
    expect(sources).toContain('base/emqx.env');
    // Resource files are not candidates (the origin annotation names the right one).
    expect(sources).not.toContain('base/service.yaml');
  });

  it('finds a patched value in the patch, a base value in the base, skipping comments', () => {
    const index = new SourceIndex();
    const overlay = path.join(REPO_ROOT, 'overlays', 'deployment-ip');
    const origin = path.join(REPO_ROOT, 'base', 'statefulset.yaml');
    expect(index.locate(overlay, origin, 'x', '$(POD_IP)')?.file).toBe(path.join(overlay, 'statefulset-to-deployment', 'patches', 'statefulset-address-ip.yaml'));
    const base = index.locate(overlay, origin, 'x', 'EMQX_DASHBOARD__DEFAULT_PASSWORD');
    expect(base?.file).toBe(origin);
    expect(index.linesOf(origin)![base!.line! - 1]).toMatch(/name: EMQX_DASHBOARD__DEFAULT_PASSWORD/);
    expect(index.locate(overlay, origin, 'spec.podManagementPolicy', undefined)).toMatchObject({ file: origin, line: expect.any(Number) });
  });
});

describe('validate.config.yaml', () => {
  it('reads the declared external Secrets, and the repository declares emqx-secrets', () => {
    const config = parseValidateConfig('externalSecrets:\n  - name: s\n    keys: [a, b]\n', 'x.yaml');
    expect([...config.externalSecrets.get('s')!]).toEqual(['a', 'b']);
    const repo = parseValidateConfig(readFileSync(path.join(REPO_ROOT, 'validate.config.yaml'), 'utf8'), 'validate.config.yaml');
    expect([...repo.externalSecrets.get('emqx-secrets')!].sort()).toEqual(['dashboard-password', 'node-cookie']);
  });

  it('rejects a declaration without keys, a duplicate and an unknown field, naming the file', () => {
    expect(() => parseValidateConfig('externalSecrets:\n  - name: s\n', 'cfg.yaml')).toThrow(/cfg\.yaml: externalSecrets\[0\]\.keys/);
    expect(() => parseValidateConfig('externalSecrets:\n  - {name: s, keys: [a]}\n  - {name: s, keys: [b]}\n', 'cfg.yaml')).toThrow(/declares s twice/);
    expect(() => parseValidateConfig('secrets: []\n', 'cfg.yaml')).toThrow(UserError);
  });
});

describe('schema results', () => {
  it('turns pointers into dotted paths', () => {
    expect(pointerToPath('/spec/template/spec/containers/0/ports')).toBe('spec.template.spec.containers[0].ports');
    expect(pointerToPath('/metadata/annotations/a~1b')).toBe('metadata.annotations.a/b');
  });

  it('reports invalid fields and missing schemas as errors, never skips', () => {
    const findings = schemaFindings([
      { filename: 'stdin', kind: 'Service', name: 'a', version: 'v1', status: 'statusInvalid', msg: '', validationErrors: [{ path: '/spec/portz', msg: 'additional properties not allowed' }] },
      { filename: 'stdin', kind: 'Widget', name: 'w', version: 'example.com/v1', status: 'statusError', msg: 'no schema for Widget (apiVersion example.com/v1)', validationErrors: [] },
      { filename: 'stdin', kind: 'Gadget', name: 'g', version: 'example.com/v1', status: 'statusSkipped', msg: '', validationErrors: [] },
      { filename: 'stdin', kind: 'Service', name: 'ok', version: 'v1', status: 'statusValid', msg: '', validationErrors: [] },
    ]);
    expect(findings.map((f) => [f.rule, f.severity, f.kind, f.path])).toEqual([
      ['schema', 'error', 'Service', 'spec.portz'],
      ['schema/missing', 'error', 'Widget', undefined],
      ['schema/missing', 'error', 'Gadget', undefined],
    ]);
  });
});

describe('batching', () => {
  const stream = [
    'apiVersion: rbac.authorization.k8s.io/v1',
    'kind: RoleBinding',
    'metadata:',
    '  annotations:',
    '    render.emqx-gitops/overlay-index: "1"',
    '  labels:',
    '    app.kubernetes.io/name: emqx',
    '  name: emqx-discovery',
    'roleRef:',
    '  name: emqx-discovery',
    '---',
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  annotations:',
    '    a: b',
    '    render.emqx-gitops/overlay-index: "0"',
    '  name: "007"',
    '',
  ].join('\n');

  it('splits a batched render by overlay and removes the mark', () => {
    const parts = splitByMark(stream, 2)!;
    expect(parts[1]).toBe('apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  labels:\n    app.kubernetes.io/name: emqx\n  name: emqx-discovery\nroleRef:\n  name: emqx-discovery\n');
    expect(parts[0]).toContain('  annotations:\n    a: b\n  name: "007"');
    expect(splitByMark('kind: ConfigMap\nmetadata:\n  name: x\n', 1)).toBeUndefined();
  });

  it("tags metadata.name only, so kubeconform's results can be attributed", () => {
    const tagged = tagNames(splitByMark(stream, 2)!.reverse().join('---\n'), 4);
    expect(tagged).toContain('  name: "emqx-discovery@@overlay-4"\nroleRef:\n  name: emqx-discovery\n');
    expect(tagged).toContain('  name: "007@@overlay-4"');
  });

  it('attributes batched results to their stream, untagged', async () => {
    const seen: string[] = [];
    const fake = {
      description: 'fake',
      validate: async (yaml: string) => {
        seen.push(yaml);
        return [...yaml.matchAll(/^  name: "(.+)"$/gm)].map((m) => ({ filename: 'stdin', kind: 'ConfigMap', name: m[1]!, version: 'v1', status: 'statusValid' as const, msg: '', validationErrors: [] }));
      },
    };
    const results = await validateMany(fake, ['kind: ConfigMap\nmetadata:\n  name: a\n', 'kind: ConfigMap\nmetadata:\n  name: a\n---\nkind: ConfigMap\nmetadata:\n  name: b\n']);
    expect(seen).toHaveLength(1);
    expect(results.map((r) => r.map((x) => x.name))).toEqual([['a'], ['a', 'b']]);
  });
});

describe('sync kustomizations', () => {
  it('finds buildable roots under a folder, not Components and not directories another one includes', async () => {
    const root = await tempDir();
    const write = async (rel: string, text: string) => {
      await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await writeFile(path.join(root, rel), text);
    };
    await write('argocd/kustomization.yaml', 'resources: [app.yaml]\ncomponents: [../shared]\n');
    await write('shared/kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n');
    await write('flux/kustomization.yaml', 'resources: [clusters]\n');
    await write('flux/clusters/kustomization.yaml', 'resources: []\n');
    expect(listSyncKustomizations(root).map((o) => path.relative(root, o.dir))).toEqual(['argocd', 'flux']);
  });
});

describe('render failures', () => {
  it('name the overlay and the file kustomize names', () => {
    const overlay = { name: 'deployment-ip', dir: path.join(REPO_ROOT, 'overlays', 'deployment-ip') };
    const f = renderFinding(overlay, 'overlay deployment-ip: kustomize build failed:\n    MalformedYAMLError: yaml: line 3: found a tab character in File: overlays/deployment-ip/statefulset-to-deployment/patches/statefulset-to-deployment.yaml');
    expect(f).toMatchObject({ overlay: 'deployment-ip', rule: 'render', severity: 'error', file: 'overlays/deployment-ip/statefulset-to-deployment/patches/statefulset-to-deployment.yaml', line: 3 });
  });
});

describe('docs/validate.md', () => {
  it('has a row with the severity for every rule validate runs', () => {
    const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'validate.md'), 'utf8');
    for (const entry of validateRuleList()) expect(doc, entry.id).toContain(`| \`${entry.id}\` | ${entry.severity} |`);
  });
});

describe('formats', () => {
  const finding: Finding = {
    overlay: 'deployment-ip',
    kind: 'Deployment',
    name: 'emqx',
    namespace: 'emqx-deployment-ip',
    file: 'overlays/deployment-ip/patches/statefulset-address-ip.yaml',
    line: 12,
    path: 'spec.template.spec.containers[emqx].env[EMQX_HOST]',
    rule: 'emqx/discovery',
    severity: 'error',
    message: 'the node host is wrong. Fix: set it.',
  };
  const reports: OverlayReport[] = [
    { overlay: { name: 'deployment-ip', dir: path.join(REPO_ROOT, 'overlays', 'deployment-ip') }, objects: 9, findings: [finding] },
    { overlay: { name: 'single-node', dir: path.join(REPO_ROOT, 'overlays', 'single-node') }, objects: 6, findings: [] },
  ];

  it('text groups by overlay and ends with a tally', () => {
    const text = formatText(reports);
    expect(text).toMatch(/^deployment-ip: 9 objects, 1 error\n  error \[emqx\/discovery\] Deployment emqx-deployment-ip\/emqx \(overlays\/deployment-ip\/patches\/statefulset-address-ip\.yaml:12\)\n    field: spec/);
    expect(text).toMatch(/\nsingle-node: 6 objects, ok\n/);
    expect(text.trimEnd().split('\n').at(-1)).toBe('2 overlays, 15 objects: 1 error, 0 warnings');
  });

  it('json is a list with every documented key', () => {
    const list = JSON.parse(formatJson(reports)) as Record<string, unknown>[];
    expect(list).toHaveLength(1);
    expect(Object.keys(list[0]!)).toEqual(['overlay', 'kind', 'name', 'namespace', 'file', 'line', 'path', 'rule', 'severity', 'message']);
    expect(JSON.parse(formatJson([{ ...reports[1]! }]))).toEqual([]);
  });

  it('sarif 2.1.0 has the required structure, rules with help, and results at the source file', () => {
    const sarif = JSON.parse(formatSarif(reports, { toolName: 'emqx-gitops validate', toolVersion: '0.1.0', rules: validateRuleList() }));
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toMatch(/sarif-2\.1\.0/);
    expect(sarif.runs).toHaveLength(1);
    const run = sarif.runs[0];
    expect(run.tool.driver.name).toEqual(expect.any(String));
    const ids = run.tool.driver.rules.map((r: { id: string }) => r.id);
    for (const rule of RULES) expect(ids).toContain(rule.id);
    expect(ids).toContain('schema');
    for (const r of run.tool.driver.rules) {
      expect(r.shortDescription.text).toEqual(expect.any(String));
      expect(r.help.text).toMatch(/Fix: /);
      expect(['error', 'warning', 'note']).toContain(r.defaultConfiguration.level);
    }
    expect(run.results).toHaveLength(1);
    const result = run.results[0];
    expect(result.ruleId).toBe('emqx/discovery');
    expect(run.tool.driver.rules[result.ruleIndex].id).toBe('emqx/discovery');
    expect(result.level).toBe('error');
    expect(result.message.text).toContain('the node host is wrong');
    expect(result.locations[0].physicalLocation.artifactLocation).toEqual({ uri: 'overlays/deployment-ip/patches/statefulset-address-ip.yaml', uriBaseId: '%SRCROOT%' });
    expect(result.locations[0].physicalLocation.region.startLine).toBe(12);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
