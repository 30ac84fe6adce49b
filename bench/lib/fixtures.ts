// Generated overlays for benchmarks: N small overlays in a temporary directory, each building on
// one of the repository's real overlays (cycled), so that every render does the real work; and a
// generated fleet (generateFleet): cluster directories whose objects all have the same ids.
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx';
import { listOverlays, type Overlay } from '../../scripts/lib/model/overlays.ts';
import { REPO_ROOT } from '../../scripts/lib/util/paths.ts';

export interface GeneratedOverlays {
  readonly root: string;
  readonly overlays: Overlay[];
  cleanup(): Promise<void>;
}

export async function generateOverlays(count: number): Promise<GeneratedOverlays> {
  const real = listOverlays();
  const root = await mkdtemp(path.join(os.tmpdir(), 'emqx-gitops-bench-'));
  const overlays: Overlay[] = [];
  for (let i = 0; i < count; i++) {
    const source = real[i % real.length]!;
    const name = `${source.name}-${String(i).padStart(3, '0')}`;
    const dir = path.join(root, name);
    await mkdir(dir);
    // An overlay with TLS keeps its namespace: its Certificate's names were filled in for that
    // namespace (components/tls/certificate-names runs once), so a new one on top would make
    // validate rightly report an error and the benchmark would time the error path. Its copies
    // share object ids, as a fleet's do; batching renders them together all the same.
    const tls = readFileSync(path.join(source.dir, 'kustomization.yaml'), 'utf8').includes('components/tls/certificate-names');
    await writeFile(
      path.join(dir, 'kustomization.yaml'),
      `---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n${tls ? '' : `namespace: emqx-${name}\n`}resources:\n  - ${path.relative(dir, source.dir)}\n`,
    );
    overlays.push({ name, dir });
  }
  return { root, overlays, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Wall-clock milliseconds of `fn`, best of `runs` (the least disturbed by other processes). */
export async function bestOf(runs: number, fn: () => Promise<unknown>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export interface GeneratedFleet {
  /** A git repository (one commit) with the real base/, components/ and overlays/, and clusters/. */
  readonly root: string;
  readonly clusters: Overlay[];
  cleanup(): Promise<void>;
}

/**
 * A fleet as teams lay it out: `clusters/site-N/`, each its own directory with its own files, built
 * on one of the real overlays (mostly `single-node` edge sites, every tenth a clustered
 * `statefulset-hostname-pvc` region), with per-site settings (a generated ConfigMap merged into
 * `emqx-env`, a resources patch, zone labels; a storage patch on the regional ones), and the SAME
 * object ids across clusters: same names, same namespace, because each goes to another cluster.
 */
export async function generateFleet(count: number): Promise<GeneratedFleet> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'emqx-gitops-fleet-'));
  await cp(path.join(REPO_ROOT, 'validate.config.yaml'), path.join(root, 'validate.config.yaml'));
  for (const dir of ['base', 'components', 'overlays']) await cp(path.join(REPO_ROOT, dir), path.join(root, dir), { recursive: true });
  const clusters: Overlay[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `site-${i}`;
    const dir = path.join(root, 'clusters', name);
    const regional = i % 10 === 0;
    const overlay = regional ? 'statefulset-hostname-pvc' : 'single-node';
    await mkdir(path.join(dir, 'patches'), { recursive: true });
    const patches = ['  - path: patches/statefulset-resources.yaml', ...(regional ? ['  - path: patches/statefulset-storage.yaml'] : [])];
    await writeFile(
      path.join(dir, 'kustomization.yaml'),
      [
        '---',
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        `  - ../../overlays/${overlay}`,
        'labels:',
        '  - pairs:',
        `      emqx.example.com/site: ${name}`,
        `      topology.kubernetes.io/zone: zone-${i % 3}`,
        'configMapGenerator:',
        '  - name: emqx-env',
        '    behavior: merge',
        '    literals:',
        `      - EMQX_NODE__ROLE=core`,
        `      - EMQX_MQTT__MAX_PACKET_SIZE=${1 + (i % 4)}MB`,
        'patches:',
        ...patches,
        '',
      ].join('\n'),
    );
    const memory = ['512Mi', '1Gi', '2Gi'][i % 3]!;
    await writeFile(
      path.join(dir, 'patches', 'statefulset-resources.yaml'),
      `---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: emqx\nspec:\n  template:\n    spec:\n      containers:\n        - name: emqx\n          resources:\n            limits:\n              memory: ${memory}\n            requests:\n              memory: ${memory}\n`,
    );
    if (regional) {
      await writeFile(
        path.join(dir, 'patches', 'statefulset-storage.yaml'),
        `---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: emqx\nspec:\n  volumeClaimTemplates:\n    - apiVersion: v1\n      kind: PersistentVolumeClaim\n      metadata:\n        name: emqx-data\n      spec:\n        accessModes: [ReadWriteOnce]\n        storageClassName: site-${i}-ssd\n        volumeMode: Filesystem\n        resources:\n          requests:\n            storage: 20Gi\n`,
      );
    }
    clusters.push({ name, dir });
  }
  const git = $({ cwd: root, quiet: true });
  await git`git init -q -b main`;
  await git`git add -A`;
  await git`git -c user.name=bench -c user.email=bench@example.com commit -q -m fleet`;
  return { root, clusters, cleanup: () => rm(root, { recursive: true, force: true }) };
}
