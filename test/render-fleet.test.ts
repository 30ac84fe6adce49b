// Batched rendering of a fleet: cluster directories whose objects have the same ids (same names,
// same namespace, because each goes to another cluster) render several per kustomize process, and
// each one's output is byte-identical to its own `kustomize build`.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { chunk, MAX_BATCH, memberKustomization, renderOverlays, undoMemberPrefix } from '../scripts/lib/model/render.ts';
import type { Overlay } from '../scripts/lib/model/overlays.ts';
import { useTempDirs } from './helpers/tmp.ts';

const tempDir = useTempDirs();
const TIMEOUT = 120_000;

const OVERLAY_OF = (i: number) => (i === 8 ? 'production' : i > 5 ? 'statefulset-hostname-pvc' : 'single-node');

/** clusters/site-N/ on the repository's overlays, each with its own files and the same object ids. */
async function fleet(root: string, count: number): Promise<Overlay[]> {
  const overlays: Overlay[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `site-${i}`;
    const dir = path.join(root, 'clusters', name);
    await mkdir(path.join(dir, 'patches'), { recursive: true });
    const overlay = OVERLAY_OF(i);
    const resources = [path.relative(dir, path.join(REPO_ROOT, 'overlays', overlay)), 'namespace.yaml', 'clusterrole.yaml', 'clusterrolebinding.yaml'];
    const extra: string[] = [];
    // One cluster only patches the StatefulSet.
    if (i === 3) extra.push('patches:', '  - path: patches/statefulset-replicas.yaml');
    // One cluster generates the Secret the others expect from outside: nobody else's reference may resolve to it.
    if (i === 1) extra.push('secretGenerator:', '  - name: emqx-secrets', '    literals: [node-cookie=abc, dashboard-password=def]');
    // One name that kustomize quotes ("007"): that member cannot be batched exactly, and renders alone.
    if (i === 2) resources.push('configmap-007.yaml');
    // kustomize honours sortOptions only at the top: this member renders alone.
    if (i === 4) extra.push('sortOptions:', '  order: fifo');
    await writeFile(
      path.join(dir, 'kustomization.yaml'),
      [
        '---',
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        ...resources.map((r) => `  - ${r}`),
        'configMapGenerator:',
        '  - name: site',
        `    literals: [SITE=${name}, ZONE=zone-${i % 3}]`,
        ...extra,
        '',
      ].join('\n'),
    );
    await writeFile(path.join(dir, 'namespace.yaml'), `---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: emqx-${overlay}\n`);
    await writeFile(
      path.join(dir, 'clusterrole.yaml'),
      '---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: emqx-node-reader\nrules:\n  - apiGroups: [""]\n    resources: [nodes]\n    verbs: [get]\n',
    );
    await writeFile(
      path.join(dir, 'clusterrolebinding.yaml'),
      [
        '---',
        'apiVersion: rbac.authorization.k8s.io/v1',
        'kind: ClusterRoleBinding',
        'metadata:',
        '  name: emqx-node-reader',
        'roleRef:',
        '  apiGroup: rbac.authorization.k8s.io',
        '  kind: ClusterRole',
        '  name: emqx-node-reader',
        'subjects:',
        '  - kind: ServiceAccount',
        '    name: emqx',
        `    namespace: emqx-${overlay}`,
        '',
      ].join('\n'),
    );
    await writeFile(path.join(dir, 'patches', 'statefulset-replicas.yaml'), '---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: emqx\nspec:\n  replicas: 5\n');
    await writeFile(path.join(dir, 'configmap-007.yaml'), '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "007"\ndata:\n  a: b\n');
    overlays.push({ name, dir });
  }
  return overlays;
}

/** Origin paths are relative to each wrapper directory: compare them resolved. */
const resolved = (r: { yaml: string; originRoot?: string }) =>
  r.yaml.replace(/(origin: \|\n\s+(?:path|configuredIn): )(\S+)/g, (_, head: string, p: string) => `${head}${r.originRoot ? path.resolve(r.originRoot, p) : p}`);

describe('batched rendering of identical-id directories', () => {
  it('renders a fleet batched, byte-identical to one kustomize build per directory', { timeout: TIMEOUT }, async () => {
    const kustomize = await findKustomize();
    const overlays = await fleet(await tempDir(), 8);
    const byName = new Map<string, string>();
    for (const origins of [false, true]) {
      const [alone, batched] = await Promise.all([renderOverlays(kustomize, overlays, { origins }), renderOverlays(kustomize, overlays, { origins, batch: true, concurrency: 2 })]);
      expect(alone.failures).toEqual([]);
      expect(batched.failures).toEqual([]);
      expect(batched.rendered.map((r) => r.overlay.name)).toEqual(overlays.map((o) => o.name));
      for (let i = 0; i < overlays.length; i++) expect(resolved(batched.rendered[i]!), overlays[i]!.name).toBe(resolved(alone.rendered[i]!));
      // Two batches (one per worker) of the six that can share one; site-4 (sortOptions) and
      // site-2 ("007") render alone, site-2 after its batch proved inexact for it.
      expect(batched.stats).toEqual({ processes: 4, renderedAlone: 1 });
      if (!origins) for (const r of batched.rendered) byName.set(r.overlay.name, r.yaml);
    }
    // What the fixture is about, as rendered: generated names with hash suffixes referenced from the pods,
    // one Namespace and cluster-scoped objects per cluster, the patch in one cluster only.
    expect(byName.get('site-5')).toMatch(/^ {2}name: site-[a-z0-9]{10}$/m);
    expect(byName.get('site-5')).toMatch(/^kind: Namespace\nmetadata:\n {2}name: emqx-single-node$/m);
    expect(byName.get('site-5')).toMatch(/^kind: ClusterRoleBinding\nmetadata:\n[\s\S]*?roleRef:[\s\S]*?name: emqx-node-reader$/m);
    expect(byName.get('site-3')).toMatch(/replicas: 5/);
    expect(byName.get('site-5')).not.toMatch(/replicas: 5/);
    expect(byName.get('site-1')).toMatch(/secretRef:\n {14}name: emqx-secrets-[a-z0-9]{10}|name: emqx-secrets-[a-z0-9]{10}\n/);
    expect(byName.get('site-5')).not.toMatch(/emqx-secrets-[a-z0-9]{10}/);
  });

  it('finds a broken directory in a batch by halving it, and reports it alone', { timeout: TIMEOUT }, async () => {
    const kustomize = await findKustomize();
    const root = await tempDir();
    const overlays = (await fleet(root, 12)).filter((o) => !['site-2', 'site-4', 'site-8'].includes(o.name));
    await writeFile(path.join(overlays[5]!.dir, 'kustomization.yaml'), '---\nresources:\n  - missing.yaml\n');
    const [alone, batched] = await Promise.all([renderOverlays(kustomize, overlays), renderOverlays(kustomize, overlays, { batch: true, concurrency: 1 })]);
    expect(batched.failures.map((f) => f.overlay.name)).toEqual([overlays[5]!.name]);
    expect(batched.failures[0]!.message).toBe(alone.failures[0]!.message);
    expect(batched.rendered.map((r) => r.yaml)).toEqual(alone.rendered.map((r) => r.yaml));
    // One batch of nine, then halves down to the broken one: fewer builds than one per directory.
    expect(batched.stats.processes).toBeLessThan(overlays.length + 1);
  });

  it('keeps the repository overlays byte-identical too (distinct namespaces); a Component renders alone', { timeout: TIMEOUT }, async () => {
    const kustomize = await findKustomize();
    const overlays = ['single-node', 'deployment-ip', 'statefulset-hostname-pvc', 'production'].map((name) => ({ name, dir: path.join(REPO_ROOT, 'overlays', name) }));
    const component = await tempDir();
    await writeFile(path.join(component, 'kustomization.yaml'), '---\napiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [configmap.yaml]\n');
    await writeFile(path.join(component, 'configmap.yaml'), '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n');
    const targets = [...overlays, { name: 'component', dir: component }];
    const [alone, batched] = await Promise.all([renderOverlays(kustomize, targets), renderOverlays(kustomize, targets, { batch: true, concurrency: 1 })]);
    expect(batched.rendered.map((r) => r.yaml)).toEqual(alone.rendered.map((r) => r.yaml));
    expect(batched.failures).toEqual(alone.failures);
    expect(batched.stats).toEqual({ processes: 2, renderedAlone: 0 });
  });
});

describe('the member prefix', () => {
  const token = 'qzkxwvbj';

  it('is removed exactly where kustomize put it: names, references, hash-suffixed names, apiVersions', () => {
    const text = [
      'apiVersion: qzkxwvbj3-v1',
      'kind: Namespace',
      '---',
      'apiVersion: apiextensions.k8s.io/qzkxwvbj3-v1',
      'metadata:',
      '  name: qzkxwvbj3-emqx-env-89g4tffbfk',
      '  - name: qzkxwvbj3-emqx',
      '    value: $(POD_NAME).qzkxwvbj3-emqx-headless.ns.svc',
      '',
    ].join('\n');
    expect(undoMemberPrefix(text, token, 3)).toBe(
      ['apiVersion: v1', 'kind: Namespace', '---', 'apiVersion: apiextensions.k8s.io/v1', 'metadata:', '  name: emqx-env-89g4tffbfk', '  - name: emqx', '    value: $(POD_NAME).emqx-headless.ns.svc', ''].join('\n'),
    );
  });

  it('refuses where the output without it would differ: a name kustomize quotes, another member\'s prefix', () => {
    for (const name of ['007', 'yes', 'on', 'null', '1e3']) expect(undoMemberPrefix(`  name: qzkxwvbj1-${name}\n`, token, 1), name).toBeUndefined();
    expect(undoMemberPrefix('  name: qzkxwvbj1-a\n  secretName: qzkxwvbj12-emqx-secrets\n', token, 1)).toBeUndefined();
    expect(undoMemberPrefix('  qzkxwvbj1-007: x\n', token, 1)).toBeUndefined();
    expect(undoMemberPrefix('  resourceNames: [qzkxwvbj1-a, qzkxwvbj1-007]\n', token, 1)).toBeUndefined();
    expect(undoMemberPrefix('  resourceNames: [qzkxwvbj1-a, qzkxwvbj1-b]\n', token, 1)).toBe('  resourceNames: [a, b]\n');
    expect(undoMemberPrefix('  name: "qzkxwvbj1-a: b"\n', token, 1)).toBe('  name: "a: b"\n');
    expect(undoMemberPrefix('  name: qzkxwvbj12-a\n', token, 12)).toBe('  name: a\n');
  });

  it('is written with kustomize features only: the overlay, a mark, a name prefix, apiVersion patches', () => {
    const k = memberKustomization('../../x/overlays/a', 7, token);
    expect(k).toContain('resources: ["../../x/overlays/a"]');
    expect(k).toContain('kind: PrefixSuffixTransformer');
    expect(k).toContain('prefix: qzkxwvbj7-');
    expect(k).toContain('{group: "", version: v1, kind: Namespace}');
  });

  it('keeps batches bounded, one per worker at least', () => {
    const items = Array.from({ length: 200 }, (_, i) => i);
    const groups = chunk(items, 2);
    expect(Math.max(...groups.map((g) => g.length))).toBeLessThanOrEqual(MAX_BATCH);
    expect(groups.flat()).toEqual(items);
    expect(chunk(items.slice(0, 10), 2).map((g) => g.length)).toEqual([5, 5]);
  });
});
