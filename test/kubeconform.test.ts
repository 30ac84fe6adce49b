// The kubeconform wrapper: its arguments and output parsing (pure), then the real kubeconform
// against the schemas the set-up generated (.tools/schemas).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildKubeconformArgs,
  explainDuplicateKey,
  findKubeconform,
  leafErrors,
  parseKubeconformOutput,
  validateManifests,
  type Kubeconform,
} from '../scripts/lib/tools/kubeconform.ts';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import { listOverlays } from '../scripts/lib/model/overlays.ts';
import { renderOverlays } from '../scripts/lib/model/render.ts';
import { kubernetesFolderName, PINNED_KUBERNETES_PATCHES, SCHEMAS_DIR } from '../scripts/lib/setup/schema-location.ts';

describe('buildKubeconformArgs', () => {
  const args = buildKubeconformArgs({ kubernetesVersion: '1.37.2', schemaDir: '/schemas' });

  it('validates strictly, as JSON, one entry per resource, from stdin', () => {
    expect(args).toContain('-strict');
    expect(args.join(' ')).toContain('-output json');
    expect(args).toContain('-verbose');
    expect(args).not.toContain('-summary');
    expect(args.at(-1)).toBe('-');
    expect(args.join(' ')).toContain('-kubernetes-version 1.37.2');
  });

  it('reads schemas from local files only and never skips a kind without one', () => {
    const locations = args.flatMap((a, i) => (args[i - 1] === '-schema-location' ? [a] : []));
    expect(locations).toEqual([
      '/schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json',
      '/schemas/crds/{{ .ResourceKind }}{{ .KindSuffix }}.json',
    ]);
    expect(args.join(' ')).not.toMatch(/https?:|-ignore-missing-schemas|-skip/);
  });

  it('uses one worker, so that results come in stream order', () => {
    expect(args[args.indexOf('-n') + 1]).toBe('1');
  });

  it('needs a full release', () => {
    expect(() => buildKubeconformArgs({ kubernetesVersion: '1.37', schemaDir: '/s' })).toThrow(/full Kubernetes release/);
    expect(buildKubeconformArgs({ kubernetesVersion: 'v1.35.4', schemaDir: '/s' })).toContain('1.35.4');
  });
});

describe('parseKubeconformOutput', () => {
  // Captured from kubeconform v0.7.0 -output json -verbose on stdin.
  const OUTPUT = JSON.stringify({
    resources: [
      {
        filename: 'stdin',
        kind: 'Deployment',
        name: 'd',
        version: 'apps/v1',
        status: 'statusInvalid',
        msg:
          "problem validating schema. Check JSON formatting: jsonschema validation failed with 'file:///s/v1.37.2-standalone-strict/deployment-apps-v1.json#' " +
          "- at '/metadata': validation failed   - at '/metadata': additional properties 'lables' not allowed " +
          "- at '/spec': validation failed   - at '/spec/template/spec/containers/0/ports/0/containerPort': got string, want integer   - at '/spec': additional properties 'replicass' not allowed",
        validationErrors: [
          { path: '/metadata', msg: 'validation failed' },
          { path: '/spec', msg: 'validation failed' },
        ],
      },
      { filename: 'stdin', kind: 'Secret', name: 'c', version: 'v1', status: 'statusError', msg: 'could not find schema for Secret' },
      { filename: 'stdin', kind: 'ConfigMap', name: 'a', version: 'v1', status: 'statusValid', msg: '' },
      { filename: 'stdin', kind: '', name: '', version: '', status: '', msg: '' },
    ],
  });

  it('returns every resource with its status; an empty document is statusEmpty', () => {
    const parsed = parseKubeconformOutput(OUTPUT);
    expect(parsed.map((r) => [r.kind, r.status])).toEqual([
      ['Deployment', 'statusInvalid'],
      ['Secret', 'statusError'],
      ['ConfigMap', 'statusValid'],
      ['', 'statusEmpty'],
    ]);
    expect(parsed[1]!.validationErrors).toEqual([]);
  });

  it('reports the innermost errors, which name the field, and drops the misleading "Check JSON formatting"', () => {
    const [deployment] = parseKubeconformOutput(OUTPUT);
    expect(deployment!.validationErrors).toEqual([
      { path: '/metadata', msg: "additional properties 'lables' not allowed" },
      { path: '/spec', msg: "additional properties 'replicass' not allowed" },
      { path: '/spec/template/spec/containers/0/ports/0/containerPort', msg: 'got string, want integer' },
    ]);
    expect(deployment!.msg).not.toContain('Check JSON formatting');
  });

  it('keeps kubeconform`s own list when the message has no tree', () => {
    expect(leafErrors('something else')).toEqual([]);
  });

  it('turns output that is not kubeconform JSON into a tool error', () => {
    expect(() => parseKubeconformOutput('panic: oops')).toThrow(/not JSON/);
    expect(() => parseKubeconformOutput('{"x": 1}')).toThrow(/no "resources"/);
  });

  it('explains a duplicate key', () => {
    const msg = 'error unmarshalling resource: error converting YAML to JSON: yaml: unmarshal errors:\n  line 7: key "replicas" already set in map';
    expect(explainDuplicateKey(msg)).toMatch(/^duplicate key "replicas" \(line 7/);
  });
});

describe('kubeconform with the generated schemas', () => {
  let k: Kubeconform;

  beforeAll(async () => {
    for (const patch of [PINNED_KUBERNETES_PATCHES['1.35']!, PINNED_KUBERNETES_PATCHES['1.37']!]) {
      if (!existsSync(path.join(SCHEMAS_DIR, kubernetesFolderName(patch))) || !existsSync(path.join(SCHEMAS_DIR, 'crds'))) {
        throw new Error(`the schemas for Kubernetes ${patch} are missing from .tools/schemas: run \`npm run setup\``);
      }
    }
    k = await findKubeconform();
  });

  it('finds the pinned kubeconform', () => {
    expect(k.binary).toBe(path.join(SCHEMAS_DIR, '..', 'bin', 'kubeconform'));
    expect(k.version).toBe('v0.7.0');
  });

  it.each(['1.35', '1.37'])('every overlay renders to valid objects for Kubernetes %s', async (version) => {
    const overlays = listOverlays();
    expect(overlays.map((o) => o.name)).toEqual(expect.arrayContaining(['deployment-ip', 'single-node', 'statefulset-hostname-pvc']));
    const { rendered, failures } = await renderOverlays(await findKustomize(), overlays);
    expect(failures).toEqual([]);
    for (const { overlay, yaml } of rendered) {
      const results = await validateManifests(k, yaml, { kubernetesVersion: version });
      const notValid = results.filter((r) => r.status !== 'statusValid');
      expect(notValid, `${overlay.name} on ${version}`).toEqual([]);
      expect(results.map((r) => r.kind)).toEqual(expect.arrayContaining(['Service', 'ConfigMap', 'PodDisruptionBudget', 'NetworkPolicy']));
      expect(results.every((r) => r.filename === 'stdin')).toBe(true);
    }
  });

  const deployment = (spec: string) => `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  creationTimestamp: null
spec:
${spec}
  selector: {matchLabels: {app: web}}
  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          resources: {limits: {cpu: 0.5, memory: 128Mi}}
`;

  it('accepts int-or-string, quantities as numbers and creationTimestamp: null', async () => {
    const [result] = await validateManifests(k, deployment('  replicas: 2'), { kubernetesVersion: '1.37' });
    expect(result).toMatchObject({ kind: 'Deployment', name: 'web', status: 'statusValid' });
  });

  it('rejects an unknown field and names its path', async () => {
    const [result] = await validateManifests(k, deployment('  replicass: 2'), { kubernetesVersion: '1.35' });
    expect(result!.status).toBe('statusInvalid');
    expect(result!.validationErrors).toEqual([{ path: '/spec', msg: "additional properties 'replicass' not allowed" }]);
  });

  it('rejects a duplicate key', async () => {
    const [result] = await validateManifests(k, deployment('  replicas: 2\n  replicas: 3'), { kubernetesVersion: '1.37' });
    expect(result!.status).toBe('statusError');
    expect(result!.msg).toMatch(/^duplicate key "replicas"/);
  });

  it('validates an Argo CD Application and a Flux Kustomization, strictly', async () => {
    const yaml = `---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: emqx, namespace: argocd}
spec:
  project: default
  source: {repoURL: 'https://git.example.com/emqx-gitops.git', path: overlays/single-node, targetRevision: main}
  destination: {server: 'https://kubernetes.default.svc', namespace: emqx-single-node}
  syncPolicy: {automated: {prune: true, selfHeal: true}, syncOptions: [CreateNamespace=true]}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: emqx, namespace: flux-system}
spec:
  interval: 10m
  path: ./overlays/single-node
  prune: true
  sourceRef: {kind: GitRepository, name: emqx-gitops}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: typo, namespace: argocd, lables: {a: b}}
spec:
  project: default
  destination: {namespace: x}
  syncPolicy: {automated: {prune: true, selfheal: true}}
`;
    const results = await validateManifests(k, yaml, { kubernetesVersion: '1.37' });
    expect(results.map((r) => [r.kind, r.name, r.status])).toEqual([
      ['Application', 'emqx', 'statusValid'],
      ['Kustomization', 'emqx', 'statusValid'],
      ['Application', 'typo', 'statusInvalid'],
    ]);
    expect(results[2]!.validationErrors).toEqual([
      { path: '/metadata', msg: "additional properties 'lables' not allowed" },
      { path: '/spec/syncPolicy/automated', msg: "additional properties 'selfheal' not allowed" },
    ]);
  });

  it('reports a kind without a schema as an error that says what to do, not as skipped', async () => {
    const yaml = '---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\n';
    const [widget, psp] = await validateManifests(k, yaml, { kubernetesVersion: '1.37' });
    expect(widget!.status).toBe('statusError');
    expect(widget!.msg).toContain('no schema for Widget (apiVersion example.com/v1) for Kubernetes 1.37.2');
    expect(widget!.msg).toContain('CRD_SOURCES');
    expect(psp!.status).toBe('statusError');
    expect(psp!.msg).toContain('does not serve policy/v1beta1');
  });

  it('returns results in stream order, even for the same kind and name twice', async () => {
    const cm = (ns: string, data: string) => `---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: same, namespace: ${ns}}\n${data}\n`;
    const yaml = [cm('a', 'data: {k: v}'), cm('b', 'dta: {}'), cm('c', 'data: {k: v}'), cm('d', 'dta: {}')].join('');
    const results = await validateManifests(k, yaml, { kubernetesVersion: '1.37' });
    expect(results.map((r) => r.status)).toEqual(['statusValid', 'statusInvalid', 'statusValid', 'statusInvalid']);
  });

  it('says how to get schemas for an unsupported version', async () => {
    await expect(validateManifests(k, 'kind: ConfigMap\n', { kubernetesVersion: '1.20' })).rejects.toThrow(/npm run schemas -- --kubernetes-version 1\.20/);
  });
});
