// The diff at fleet scale: one change in many clusters shown once with the list of clusters,
// natural order, what a deleted cluster directory or a cluster leaving the inventory prunes, and
// a 200-cluster base change that still fits one GitHub comment.
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { describe, expect, it } from 'vitest';
import { diffOverlay } from '../scripts/lib/diff/engine.ts';
import { formatJson } from '../scripts/lib/diff/format-json.ts';
import { formatMarkdown, GITHUB_COMMENT_LIMIT } from '../scripts/lib/diff/format-markdown.ts';
import { formatText } from '../scripts/lib/diff/format-text.ts';
import { groupReport } from '../scripts/lib/diff/group.ts';
import { naturalCompare } from '../scripts/lib/util/natural-sort.ts';
import { pruneSummary } from '../scripts/lib/diff/prune.ts';
import { inventoryNames, runDiff } from '../scripts/lib/diff/run.ts';
import type { DiffReport } from '../scripts/lib/diff/types.ts';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { useTempDirs } from './helpers/tmp.ts';
import { configMap as configMapIn, emqxStatefulSet } from './helpers/objects.ts';

const tempDir = useTempDirs();
const TIMEOUT = 240_000;
const NS = 'emqx-single-node';

const configMap = (name: string, data: Record<string, string>): K8sObject => configMapIn(name, data, NS);

/** One broker reading ConfigMap `envFrom` and the Secret emqx-secrets. */
function statefulSet(envFrom: string, memory = '1Gi', extra: Record<string, unknown> = {}): K8sObject {
  return emqxStatefulSet({ namespace: NS, envFrom: [{ configMapRef: { name: envFrom } }, { secretRef: { name: 'emqx-secrets' } }], container: { resources: { limits: { memory } } }, spec: extra });
}

const report = (overlays: DiffReport['overlays']): DiffReport => ({ base: { ref: 'main', commit: 'b'.repeat(40) }, head: { ref: 'working tree' }, overlays });

describe('natural order', () => {
  it('sorts digit runs by value: site-2 before site-10', () => {
    expect(['site-10', 'site-2', 'site-1', 'depot-3', 'site-100', 'site-02'].sort(naturalCompare)).toEqual(['depot-3', 'site-1', 'site-2', 'site-02', 'site-10', 'site-100']);
  });
});

describe('grouping the same change across clusters', () => {
  // Twelve clusters, listed out of order. A base change to the env ConfigMap: each cluster's name
  // gets its own hash suffix (as when their own settings differ), which must not make the same
  // change look different. site-3 also changes its memory.
  const names = Array.from({ length: 12 }, (_, i) => `site-${12 - i}`);
  const hash = (i: number, side: 'b' | 'h') => `${side}cdfghkm${String(i).padStart(2, '0')}`;
  const overlays = names.map((name, i) =>
    diffOverlay({
      name,
      dir: `clusters/${name}`,
      base: [configMap(`emqx-env-${hash(i, 'b')}`, { A: '1', B: 'x' }), statefulSet(`emqx-env-${hash(i, 'b')}`)],
      head: [configMap(`emqx-env-${hash(i, 'h')}`, { A: '2', B: 'x' }), statefulSet(`emqx-env-${hash(i, 'h')}`, name === 'site-3' ? '2Gi' : '1Gi')],
    }),
  );
  const view = groupReport(report(overlays));
  const markdown = formatMarkdown(report(overlays));

  it('groups by the diff text with hash suffixes masked; what differs stays with its cluster', () => {
    expect(view.shared.map((g) => [g.targets.length, g.changes.map((c) => c.id.kind)])).toEqual([
      [12, ['ConfigMap']],
      [11, ['StatefulSet']],
    ]);
    expect(view.shared[1]!.targets).toEqual(['site-1', 'site-2', 'site-4', 'site-5', 'site-6', 'site-7', 'site-8', 'site-9', 'site-10', 'site-11', 'site-12']);
    expect(view.own.get('site-3')!.map((c) => c.id.kind)).toEqual(['StatefulSet']);
    expect(view.own.get('site-4')).toEqual([]);
    expect(view.changing).toEqual(Array.from({ length: 12 }, (_, i) => `site-${i + 1}`));
  });

  it('prints each shared change once, with the clusters it applies to, and the rest per cluster', () => {
    expect(markdown).toContain('**12 of 12 clusters change** (12 changed); 0 unchanged.');
    expect(markdown).toContain('The same change in 12 of 12 clusters: all of them');
    expect(markdown).toContain('The same change in 11 of 12 clusters: site-1, site-2, site-4, site-5, site-6, site-7, site-8, site-9, site-10, site-11, site-12');
    expect(markdown).toContain('**changed** `ConfigMap emqx-single-node/emqx-env-<new hash>`: renamed from `emqx-env-<old hash>` (new hash suffix)');
    expect(markdown.match(/^-  A: "1"$/gm)).toHaveLength(1);
    // site-3's own change, in its own section; no section for clusters whose changes are all shared.
    expect(markdown).toMatch(/<summary><b>site-3<\/b> \(clusters\/site-3\): changed, 0 added, 0 removed, 2 changed; 1 of them shared, shown above<\/summary>[\s\S]*?-\s+memory: 1Gi\n\+\s+memory: 2Gi/);
    expect(markdown).not.toContain('<b>site-4</b>');
    // The table in natural order.
    expect(markdown.indexOf('| site-2 |')).toBeLessThan(markdown.indexOf('| site-10 |'));
    expect(markdown.indexOf('| site-1 |')).toBeLessThan(markdown.indexOf('| site-2 |'));
  });

  it('prints the same in the terminal, and adds the groups to the JSON without changing its fields', () => {
    const text = formatText(report(overlays));
    expect(text).toContain('12 of 12 clusters change');
    expect(text).toContain('=== The same change in 11 of 12 clusters: site-1, site-2, site-4');
    expect(text.indexOf('\nsite-2 ')).toBeLessThan(text.indexOf('\nsite-10 '));
    const json = JSON.parse(formatJson(report(overlays))) as { overlays: Array<{ name: string; changes: unknown[] }>; fleet: { targets: number; shared: Array<{ targets: string[]; changes: Array<{ object: string }> }> } };
    expect(json.overlays.map((o) => o.name).slice(0, 3)).toEqual(['site-1', 'site-2', 'site-3']);
    expect(json.overlays[0]!.changes).toHaveLength(2);
    expect(json.fleet.targets).toBe(12);
    expect(json.fleet.shared[0]).toMatchObject({ targets: expect.arrayContaining(['site-12']), changes: [{ object: 'ConfigMap emqx-single-node/emqx-env-<new hash>' }] });
  });

  it('groups the same change even where the lines around it differ (a cluster setting beside it), and says whose context it shows', () => {
    const cm = (name: string, hashed: string, a: string) => configMap(hashed, { A: a, ...(name === 'site-2' ? { AA_EXTRA: 'x' } : {}), Z: name === 'site-3' ? 'lyon' : 'z' });
    const r = report(
      ['site-1', 'site-2', 'site-3'].map((name, i) => diffOverlay({ name, dir: `clusters/${name}`, base: [cm(name, `emqx-env-bcdfghkm0${i}`, '1')], head: [cm(name, `emqx-env-bcdfghkm1${i}`, '2')] })),
    );
    const view = groupReport(r);
    expect(view.shared.map((g) => g.targets)).toEqual([['site-1', 'site-2', 'site-3']]);
    expect(view.shared[0]!.contextVaries.size).toBe(1);
    const md = formatMarkdown(r);
    expect(md).toContain('The same change in 3 of 3 clusters: all of them');
    expect(md).toContain("_The unchanged lines around it are site-1's; they differ in the others._");
    const json = JSON.parse(formatJson(r)) as { fleet: { shared: Array<{ changes: Array<{ contextVaries: boolean }> }> } };
    expect(json.fleet.shared[0]!.changes[0]!.contextVaries).toBe(true);
  });

  it('shows a warning that many clusters share once, with their list', () => {
    const immutable = (name: string, changed: boolean) =>
      diffOverlay({ name, dir: `clusters/${name}`, base: [statefulSet('emqx-env')], head: [statefulSet('emqx-env', '1Gi', changed ? { podManagementPolicy: 'OrderedReady', serviceName: 'other' } : {})] });
    const r = report(['site-10', 'site-2', 'site-1', 'site-3'].map((n) => immutable(n, n !== 'site-3')));
    const md = formatMarkdown(r);
    expect(md).toContain('- **The same warning in 3 of 4 clusters: site-1, site-2, site-10** · `StatefulSet emqx-single-node/emqx` · `immutable-field`');
    expect(md.match(/`immutable-field`/g)).toHaveLength(1);
  });
});

describe('a fleet whose clusters all change differently', () => {
  it('still fits one comment, keeps the summary, and names the clusters whose diffs it left out', () => {
    const big = (name: string, v: string) => configMap('emqx-site', Object.fromEntries(Array.from({ length: 30 }, (_, k) => [`KEY_${k}`, `${name}-${v}-${'x'.repeat(20)}`])));
    const overlays = Array.from({ length: 200 }, (_, i) => `site-${i + 1}`).map((name) => diffOverlay({ name, dir: `clusters/${name}`, base: [big(name, 'old')], head: [big(name, 'new')] }));
    const md = formatMarkdown(report(overlays));
    expect(md.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(md).toContain('**200 of 200 clusters change** (200 changed); 0 unchanged.');
    expect(md).not.toContain('too large for a comment');
    expect(md).toMatch(/_Left out to fit the comment limit, every diff of its own for \d+ clusters \(the table counts them\): site-\d+, /);
    expect(md).toMatch(/> \d+ object diffs were left out to stay under GitHub's comment limit/);
    // What is shown comes first in natural order: site-1, site-2, ... before site-10.
    expect(md.indexOf('<b>site-2</b>')).toBeGreaterThan(0);
    expect(md.indexOf('<b>site-2</b>')).toBeLessThan(md.indexOf('<b>site-10</b>'));
  });
});

describe('a cluster that goes away', () => {
  const sts = (extra: Record<string, unknown>, annotations?: Record<string, string>): K8sObject => {
    const s = statefulSet('emqx-env', '1Gi', { volumeClaimTemplates: [{ metadata: { name: 'emqx-data' } }], ...extra });
    return annotations ? { ...s, metadata: { ...s.metadata, annotations } } : s;
  };
  const namespace: K8sObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } };
  const secret: K8sObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'emqx-secrets', namespace: NS }, data: { 'node-cookie': 'c2VjcmV0' } };

  it('lists every object the controller prunes, by kind, and says the claims survive (Retain) and the external Secret stays', () => {
    const d = diffOverlay({ name: 'site-7', dir: 'clusters/site-7', base: [sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain' } }), configMap('emqx-env', {})] });
    expect(d.status).toBe('removed');
    expect(d.prune).toMatchObject({ reasons: ['directory-deleted'], deleted: [{ kind: 'ConfigMap', names: ['emqx-env'] }, { kind: 'StatefulSet', names: ['emqx'] }] });
    expect(d.prune!.workload.survives).toBe(false);
    expect(d.prune!.claims).toEqual({ survives: true, why: "StatefulSet emqx's claims stay (persistentVolumeClaimRetentionPolicy.whenDeleted: Retain), unused" });
    expect(d.prune!.secret.survives).toBe(true);
    const w = d.warnings.find((x) => x.rule === 'target-removed')!;
    expect(w).toMatchObject({ overlay: 'site-7', object: 'clusters/site-7' });
    expect(w.message).toContain('deletes on that cluster 1 ConfigMap (emqx-env), 1 StatefulSet (emqx)');
    expect(w.message).toContain('The broker: LOST');
    expect(w.message).toContain('Its Secrets: kept (Secret emqx-secrets stays: it is not in the render');
  });

  it('says a pruned Namespace takes everything with it, and honours Prune=false and prune: disabled', () => {
    const all = pruneSummary([namespace, sts({}), secret], ['directory-deleted']);
    expect(all.deleted[0]).toEqual({ kind: 'Namespace', names: [NS] });
    for (const part of [all.workload, all.claims, all.secret]) expect(part).toEqual({ survives: false, why: `the Namespace ${NS} is pruned, and with it everything in it` });
    const kept = pruneSummary([sts({}, { 'argocd.argoproj.io/sync-options': 'ServerSideApply=true,Prune=false' }), { ...secret, metadata: { ...secret.metadata, annotations: { 'kustomize.toolkit.fluxcd.io/prune': 'disabled' } } }], ['directory-deleted']);
    expect(kept.kept).toEqual([`Secret ${NS}/emqx-secrets`, `StatefulSet ${NS}/emqx`]);
    expect(kept.workload.survives).toBe(true);
    // Leaving the inventory deletes the Application: Argo CD keeps Delete=false objects only.
    const leaving = pruneSummary([sts({}, { 'argocd.argoproj.io/sync-options': 'Prune=false' }), configMap('c', {})], ['removed-from-inventory']);
    expect(leaving.workload.survives).toBe(false);
    expect(leaving.pruneFalseOnly).toEqual([`StatefulSet ${NS}/emqx`]);
    expect(pruneSummary([sts({}, { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' })], ['removed-from-inventory']).workload.survives).toBe(true);
    expect(kept.secret).toEqual({ survives: true, why: 'Secret emqx-secrets is kept by annotation' });
    expect(pruneSummary([sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' } })], ['directory-deleted']).claims.survives).toBe(false);
    expect(pruneSummary([statefulSet('emqx-env'), secret], ['directory-deleted']).secret).toEqual({ survives: false, why: 'Secret emqx-secrets is in the render and pruned' });
  });

  it('reads cluster names from an inventory, tolerating a broken one', () => {
    expect([...inventoryNames('clusters:\n  - name: a\n    overlay: x\n  - name: b\n')]).toEqual(['a', 'b']);
    expect(inventoryNames('clusters: [').size).toBe(0);
    expect(inventoryNames(undefined).size).toBe(0);
  });
});

/** A repository with the real base and overlays and `count` cluster directories on single-node. */
async function fleetRepo(count: number, inventory: boolean): Promise<string> {
  const repo = await tempDir();
  for (const dir of ['base', 'components', 'overlays']) await cp(path.join(REPO_ROOT, dir), path.join(repo, dir), { recursive: true });
  for (let i = 1; i <= count; i++) {
    const dir = path.join(repo, 'clusters', `site-${i}`);
    await mkdir(path.join(dir, 'patches'), { recursive: true });
    await writeFile(path.join(dir, 'kustomization.yaml'), '---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../overlays/single-node\npatches:\n  - path: patches/statefulset-resources.yaml\n');
    await writeFile(
      path.join(dir, 'patches', 'statefulset-resources.yaml'),
      `---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: emqx\nspec:\n  template:\n    spec:\n      containers:\n        - name: emqx\n          resources:\n            limits:\n              memory: ${['512Mi', '1Gi', '2Gi'][i % 3]}\n`,
    );
  }
  if (inventory) {
    const entries = Array.from({ length: count }, (_, i) => `  - name: site-${i + 1}\n    overlay: single-node\n    server: https://site-${i + 1}.example.net:6443\n    region: r\n`);
    await writeFile(path.join(repo, 'clusters', 'inventory.yaml'), `---\nclusters:\n${entries.join('')}`);
  }
  const git = $({ cwd: repo, quiet: true });
  await git`git init -q -b main`;
  await git`git add -A`;
  await git`git -c user.name=t -c user.email=t@example.com commit -q -m fleet`;
  return repo;
}

describe('npm run diff on a fleet', () => {
  // runDiff renders a dozen real clusters at both refs (ten at least, for site-2 before site-10);
  // the 200-cluster comment is made of their real diffs, cluster N showing rendered cluster
  // N mod 12's (the same memory setting, N mod 3). Rendering 200 directories twice is the
  // benchmark's part (npm run bench:fleet, in CI), not a test's: it cost 28 s of the suite's minute.
  it('after a base change to 200 clusters, fits one GitHub comment: the same change in 200 of 200, natural order', { timeout: TIMEOUT }, async () => {
    const rendered = 12;
    const repo = await fleetRepo(rendered, false);
    const env = path.join(repo, 'base', 'emqx.env');
    await writeFile(env, `${await readFile(env, 'utf8')}EMQX_CLUSTER__AUTOCLEAN=12h\n`);
    const service = path.join(repo, 'base', 'service.yaml');
    await writeFile(service, (await readFile(service, 'utf8')).replace('  type: ClusterIP', '  type: ClusterIP\n  sessionAffinity: ClientIP'));
    const report = await runDiff({ cwd: repo, base: 'HEAD', overlayArgs: [], kustomize: await findKustomize() });
    // Every cluster directory is a target by default, beside the overlays, in natural order.
    const real = report.overlays.filter((o) => o.dir.startsWith('clusters/'));
    expect(real.map((o) => o.name)).toEqual(Array.from({ length: rendered }, (_, i) => `site-${i + 1}`));
    expect(real.every((o) => o.status === 'changed')).toBe(true);
    expect(formatMarkdown({ ...report, overlays: real })).toMatch(new RegExp(`The same changes in ${rendered} of ${rendered} clusters: all of them</b> \\(3 objects\\)`));
    const clusters = Array.from({ length: 200 }, (_, i) => {
      const name = `site-${i + 1}`;
      const like = real[i % rendered]!;
      return { ...like, name, dir: `clusters/${name}`, warnings: like.warnings.map((w) => ({ ...w, overlay: name })) };
    });
    const comment = formatMarkdown({ ...report, overlays: clusters });
    expect(comment.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(comment).toContain('**200 of 200 clusters change** (200 changed); 0 unchanged.');
    expect(comment).toMatch(/The same changes in 200 of 200 clusters: all of them<\/b> \(3 objects\)/);
    expect(comment).toContain('**changed** `Service emqx-single-node/emqx`: spec.sessionAffinity');
    // The summary table lists the 200 in one row, in natural order.
    expect(comment).toMatch(/\| site-1, site-2, site-3, site-4, site-5, site-6, site-7, site-8, site-9, site-10, site-11, [^|]* and 100 more \(200\) \| changed \| 0 \| 0 \| 3 \| 0 \|/);
    expect(comment.length).toBeLessThan(10_000); // once, not 200 times
    // Cut to a smaller limit, it leaves whole objects out and says so.
    const cut = formatMarkdown({ ...report, overlays: clusters }, { limit: 2_200 });
    expect(cut.length).toBeLessThanOrEqual(2_200);
    expect(cut).toContain('_Left out to fit the comment limit: ');
    expect(cut).toMatch(/\d+ object diffs were left out to stay under GitHub.s comment limit/);
  });

  it('warns when a cluster leaves the inventory, and when its directory is deleted', { timeout: TIMEOUT }, async () => {
    const repo = await fleetRepo(3, true);
    const inventory = path.join(repo, 'clusters', 'inventory.yaml');
    await writeFile(inventory, (await readFile(inventory, 'utf8')).replace(/ {2}- name: site-2\n(?: {4}.*\n)+/, ''));
    await rm(path.join(repo, 'clusters', 'site-3'), { recursive: true });
    const report = await runDiff({ cwd: repo, base: 'HEAD', overlayArgs: [], kustomize: await findKustomize() });
    const byName = new Map(report.overlays.map((o) => [o.name, o]));
    expect(byName.get('site-1')).toMatchObject({ status: 'unchanged', notRendered: true, warnings: [] });
    // site-2's files did not change: it is rendered anyway, for what its Application leaving prunes.
    expect(byName.get('site-2')!.prune!.reasons).toEqual(['removed-from-inventory']);
    expect(byName.get('site-2')!.warnings[0]!.message).toContain('site-2 goes away (its entry in clusters/inventory.yaml is removed)');
    expect(byName.get('site-3')!.status).toBe('removed');
    expect(byName.get('site-3')!.prune!.reasons).toEqual(['directory-deleted']);
    expect(byName.get('site-3')!.warnings[0]!.message).toMatch(/its directory clusters\/site-3 is deleted\): .*deletes on that cluster 1 ConfigMap \(emqx-env-[a-z0-9]{10}\), 1 NetworkPolicy \(emqx\), 1 PodDisruptionBudget \(emqx\), 2 Service \(emqx, emqx-headless\), 1 StatefulSet \(emqx\)/);
    const md = formatMarkdown(report);
    // Three clusters and the four overlays.
    expect(md).toContain('**2 of 7 targets change** (1 removed, 1 removed from the inventory); 5 unchanged.');
    expect(md).toContain('| site-2 | removed from the inventory | 0 | 0 | 0 | ⚠️ 1 |');
    expect(md).toMatch(/\| site-3 \| cluster removed \| 0 \| \d+ \| 0 \| ⚠️ 2 \|/);
  });
});
