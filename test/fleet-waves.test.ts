// Waves: the inventory's `wave` field (checked like the other fields), the last wave as the
// default, the fleet report in rollout order, and the diff saying which waves a change reaches
// first, with the PR comment's clusters grouped by wave.
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addCluster } from '../scripts/lib/fleet/add.ts';
import { checkInventory, readInventory, type ClusterEntry } from '../scripts/lib/fleet/inventory.ts';
import { formatReport, type FleetReport } from '../scripts/lib/fleet/report.ts';
import { diffOverlay } from '../scripts/lib/diff/engine.ts';
import { formatJson } from '../scripts/lib/diff/format-json.ts';
import { formatMarkdown } from '../scripts/lib/diff/format-markdown.ts';
import { formatText } from '../scripts/lib/diff/format-text.ts';
import { groupReport, rolloutSentence } from '../scripts/lib/diff/group.ts';
import { inventoryWaves } from '../scripts/lib/diff/run.ts';
import type { DiffReport, OverlayDiff } from '../scripts/lib/diff/types.ts';
import { listOverlays } from '../scripts/lib/model/overlays.ts';
import { lastWave, wavesByName } from '../scripts/lib/model/waves.ts';
import { branchOfWave, planPromotion, type WaveTarget } from '../scripts/lib/fleet/promote.ts';
import { commitOfRevision } from '../scripts/lib/model/waves.ts';
import { digestOfRevision } from '../scripts/lib/fleet/promote-oci.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { configMap } from './helpers/objects.ts';
import { useTempDirs } from './helpers/tmp.ts';

const tempDir = useTempDirs();
const context = { overlays: listOverlays().map((o) => o.name), file: 'clusters/inventory.yaml', lineOf: (i: number) => 7 + i * 5 };
const entry = (name: string, over: Record<string, unknown> = {}): ClusterEntry => ({ name, overlay: 'single-node', server: `https://${name}.example.net:6443`, region: 'r', ...over });
const check = (entries: unknown[]) => checkInventory({ clusters: entries }, context);

describe('the wave field of the inventory', () => {
  it('the shipped fleet: the canary store first, the other edge sites second, the regions last', () => {
    const waves = new Map(readInventory().clusters.map((c) => [c.name, c.wave]));
    expect(waves.get('store-0012')).toBe(1);
    expect([...waves].filter(([, w]) => w === 1).map(([n]) => n)).toEqual(['store-0012']);
    expect([...waves].filter(([, w]) => w === 3).map(([n]) => n).sort()).toEqual(['ap-southeast', 'eu-west', 'us-east']);
    expect([...waves].filter(([, w]) => w === 2)).toHaveLength(11);
  });

  it('an entry without a wave is in the last wave; with no wave anywhere every cluster is in wave 1', () => {
    expect(lastWave([{ wave: 2 }, {}, { wave: 3 }])).toBe(3);
    expect(lastWave([{}, {}])).toBe(1);
    expect(lastWave([])).toBe(1);
    expect([...wavesByName([{ name: 'a', wave: 1 }, { name: 'b' }, { name: 'c', wave: 2 }])]).toEqual([['a', 1], ['b', 2], ['c', 2]]);
    const { entries, problems } = check([entry('a', { wave: 1 }), entry('b')]);
    expect(problems).toEqual([]);
    expect(entries.map((e) => e.wave)).toEqual([1, undefined]);
  });

  it('a wave that is not a whole number from 1 to 9 names the entry, its line, the field and the fix', () => {
    for (const bad of [0, 10, 1.5, '1', -1, null]) {
      const { entries, problems } = check([entry('a', { wave: bad })]);
      expect(entries, JSON.stringify(bad)).toEqual([]);
      expect(problems.map((p) => p.kind)).toEqual(['bad-value']);
      expect(problems[0]!.message).toBe(
        `clusters/inventory.yaml:7: cluster "a": field wave: expected a whole number from 1 to 9, found ${JSON.stringify(bad)}. Fix: \`wave: 1\` for a canary cluster that gets every change first, a higher wave for later ones, or remove the field for the last wave.`,
      );
    }
  });

  it('an empty wave between two others is refused at the first entry above it, with the fix', () => {
    const { problems } = check([entry('a', { wave: 1 }), entry('b', { wave: 3 }), entry('c', { wave: 4 })]);
    expect(problems.map((p) => [p.kind, p.entry])).toEqual([['wave-gap', 'b']]);
    expect(problems[0]!.message).toBe(
      'clusters/inventory.yaml:12: cluster "b": field wave: wave 2 has no cluster, so the rollout would wait on an empty wave. Fix: number the waves 1, 2, ... without a gap (give a cluster wave 2, or lower the waves above it).',
    );
    // Entries without a wave fill the last wave, so only the named waves can leave a gap.
    expect(check([entry('a', { wave: 2 }), entry('b')]).problems.map((p) => p.message)).toEqual([expect.stringContaining('wave 1 has no cluster')]);
    expect(check([entry('a', { wave: 1 }), entry('b', { wave: 2 }), entry('c')]).problems).toEqual([]);
  });

  it('fleet add refuses a wave that leaves a gap, before writing anything (exit 1)', async () => {
    const root = await tempDir();
    for (const dir of ['base', 'components', 'overlays', 'clusters', 'gitops']) await cp(path.join(REPO_ROOT, dir), path.join(root, dir), { recursive: true });
    const before = await readFile(path.join(root, 'clusters', 'inventory.yaml'), 'utf8');
    const error = await addCluster(root, entry('store-0999', { wave: 5 }), {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ exitCode: 1, message: expect.stringContaining('wave 4 has no cluster') });
    expect(await readFile(path.join(root, 'clusters', 'inventory.yaml'), 'utf8')).toBe(before);
    await addCluster(root, entry('store-0999', { wave: 1 }), {});
    const added = readInventory({ root }).clusters.find((c) => c.name === 'store-0999');
    expect(added?.wave).toBe(1);
  });

  it('a wave in the inventory is read back by readInventory; without one, the last', async () => {
    const root = await tempDir();
    await cp(path.join(REPO_ROOT, 'overlays'), path.join(root, 'overlays'), { recursive: true });
    await mkdir(path.join(root, 'clusters'));
    await writeFile(path.join(root, 'clusters', 'inventory.yaml'), 'clusters:\n  - {name: a, overlay: single-node, server: "https://a", region: r, wave: 1}\n  - {name: b, overlay: single-node, server: "https://b", region: r, wave: 2}\n  - {name: c, overlay: single-node, server: "https://c", region: r}\n');
    expect(readInventory({ root }).clusters.map((c) => [c.name, c.wave])).toEqual([['a', 1], ['b', 2], ['c', 2]]);
  });
});

describe('npm run fleet -- report, in rollout order', () => {
  const report: FleetReport = {
    clusters: [
      { name: 'eu-west', overlay: 'production', region: 'eu', server: 'https://eu', wave: 3, deviations: 0 },
      { name: 'site-10', overlay: 'single-node', region: 'r', server: 'https://s10', wave: 2, deviations: 0 },
      { name: 'site-2', overlay: 'single-node', region: 'r', server: 'https://s2', wave: 2, deviations: 1 },
      { name: 'canary', overlay: 'single-node', region: 'r', server: 'https://c', wave: 1, deviations: 0 },
    ],
    deviations: [{ cluster: 'site-2', overlay: 'single-node', object: 'ConfigMap/emqx-env', field: '/data/A', from: '1', to: '2' }],
    shared: [],
    failures: [],
  };

  it('lists wave 1 first, then each wave by name, with the waves in one line', () => {
    const text = formatReport(report, 'text').split('\n');
    expect(text[1]).toBe('rollout order: wave 1: 1 cluster (canary); wave 2: 2 clusters (site-2, site-10); wave 3: 1 cluster (eu-west)');
    const rows = text.slice(3).filter((l) => /^\d/.test(l)).map((l) => l.split(/\s+/).slice(0, 2).join(' '));
    expect(rows).toEqual(['1 canary', '2 site-2', '2 site-10', '3 eu-west']);
    const markdown = formatReport(report, 'markdown');
    expect(markdown).toContain('Rollout order: wave 1: 1 cluster (canary); wave 2: 2 clusters (site-2, site-10); wave 3: 1 cluster (eu-west).');
    expect(markdown).toContain('| wave | cluster | overlay |');
    expect(markdown.indexOf('| 1 | canary |')).toBeLessThan(markdown.indexOf('| 2 | site-2 |'));
    expect(JSON.parse(formatReport(report, 'json')).clusters.map((c: { wave: number }) => c.wave)).toEqual([3, 2, 2, 1]);
  });
});

describe('npm run diff on a fleet with waves', () => {
  const NS = 'emqx-single-node';
  const changed = (name: string, wave?: number): OverlayDiff => ({
    ...diffOverlay({ name, dir: `clusters/${name}`, base: [configMap('emqx-env', { A: '1' }, NS)], head: [configMap('emqx-env', { A: '2' }, NS)] }),
    ...(wave === undefined ? {} : { wave }),
  });
  const unchanged = (name: string, wave: number): OverlayDiff => ({ name, dir: `clusters/${name}`, status: 'unchanged', notRendered: true, changes: [], warnings: [], failures: [], wave });
  const report = (overlays: OverlayDiff[]): DiffReport => ({ base: { ref: 'main', commit: 'b'.repeat(40) }, head: { ref: 'working tree' }, overlays });

  const fleet = report([unchanged('eu-west', 3), changed('site-10', 2), changed('site-2', 2), changed('canary', 1), unchanged('us-east', 3), changed('site-3', 2), changed('site-4', 2)]);

  it('says which wave a change reaches first, then the others in order', () => {
    expect(rolloutSentence(groupReport(fleet))).toBe('This change reaches wave 1 (canary) first, then wave 2 (4 of 4 clusters).');
    expect(groupReport(fleet).waves).toEqual([
      { wave: 1, targets: ['canary'], changing: ['canary'] },
      { wave: 2, targets: ['site-2', 'site-3', 'site-4', 'site-10'], changing: ['site-2', 'site-3', 'site-4', 'site-10'] },
      { wave: 3, targets: ['eu-west', 'us-east'], changing: [] },
    ]);
  });

  it('says so when the canary wave does not change: no earlier wave tries it', () => {
    const skipping = report([unchanged('canary', 1), changed('site-2', 2), unchanged('eu-west', 3)]);
    expect(rolloutSentence(groupReport(skipping))).toBe('This change reaches wave 2 (site-2) first. No cluster of wave 1 changes: no earlier wave tries it before wave 2.');
    // No wave anywhere (overlays only), or nothing changing: no sentence.
    expect(rolloutSentence(groupReport(report([changed('single-node')])))).toBeUndefined();
    expect(rolloutSentence(groupReport(report([unchanged('canary', 1)])))).toBeUndefined();
    // A fleet all in one wave (an inventory that names none) has no rollout order to show.
    const oneWave = report([changed('a', 1), changed('b', 1)]);
    expect(groupReport(oneWave).waves).toEqual([]);
    expect(formatMarkdown(oneWave)).not.toContain('Wave');
  });

  it('the PR comment has the sentence, a wave column in rollout order, and the clusters grouped under a heading per wave', () => {
    // site-3 has a change of its own, so it gets its own section under its wave.
    const own = changed('site-3', 2);
    const withOwn = report([...fleet.overlays.filter((o) => o.name !== 'site-3'), { ...own, changes: [...own.changes, ...diffOverlay({ name: 'site-3', dir: 'clusters/site-3', base: [], head: [configMap('extra', { B: '1' }, NS)] }).changes] }]);
    const markdown = formatMarkdown(withOwn);
    expect(markdown).toContain('This change reaches wave 1 (canary) first, then wave 2 (4 of 4 clusters).');
    expect(markdown).toContain('| Cluster | Wave | Status |');
    const order = ['| canary | 1 |', '| site-2 | 2 |', '| site-3 | 2 |', '| site-4 | 2 |', '| site-10 | 2 |', '| eu-west | 3 |', '| us-east | 3 |'].map((row) => markdown.indexOf(row));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const byCluster = markdown.slice(markdown.indexOf('### Changes by cluster'));
    expect(byCluster).toMatch(/#### Wave 2\n\n<details><summary><b>site-3<\/b>/);
  });

  it('the terminal lists the clusters wave by wave; the JSON carries the waves and the sentence', () => {
    const text = formatText(fleet).split('\n');
    expect(text[2]).toBe('This change reaches wave 1 (canary) first, then wave 2 (4 of 4 clusters).');
    expect(text.slice(4, 11).map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual(['wave 1 canary', 'wave 2 site-2', 'wave 2 site-3', 'wave 2 site-4', 'wave 2 site-10', 'wave 3 eu-west', 'wave 3 us-east']);
    const json = JSON.parse(formatJson(fleet));
    expect(json.fleet.rollout).toBe('This change reaches wave 1 (canary) first, then wave 2 (4 of 4 clusters).');
    expect(json.fleet.waves.map((w: { wave: number; changing: string[] }) => [w.wave, w.changing.length])).toEqual([[1, 1], [2, 4], [3, 0]]);
    expect(json.overlays.find((o: OverlayDiff) => o.name === 'canary').wave).toBe(1);
  });

  it('reads each cluster\'s wave from an inventory text, tolerantly, the last wave by default', () => {
    expect([...inventoryWaves('clusters:\n  - {name: a, wave: 1}\n  - {name: b}\n  - {name: c, wave: 2}\n')]).toEqual([['a', 1], ['b', 2], ['c', 2]]);
    expect([...inventoryWaves('clusters:\n  - {name: a, wave: one}\n')]).toEqual([['a', 1]]);
    expect(inventoryWaves('clusters: [').size).toBe(0);
    expect(inventoryWaves(undefined).size).toBe(0);
  });
});

describe('npm run fleet -- promote: the decision', () => {
  const C1 = '1'.repeat(40);
  const C2 = '2'.repeat(40);
  const C3 = '3'.repeat(40);
  const ready = (cluster: string, commit = C1) => ({ cluster, ready: true, message: 'Ready=True: Applied revision: main@sha1:...', commit });
  const branch = (current?: string, ahead = false): WaveTarget => ({ name: 'fleet/wave-2', ...(current ? { current } : {}), ahead });
  const site = (name: string, current?: string, extra: Partial<WaveTarget> = {}): WaveTarget => ({ name: `registry.example.net/emqx/${name}:wave-2`, ...(current ? { current } : {}), ahead: false, ...extra });

  it('moves wave N to the one commit every cluster of wave N-1 is Ready at', () => {
    expect(planPromotion(2, [ready('a'), ready('b')], [branch(C2)])).toEqual({ kind: 'promote', wave: 2, to: C1, moves: [{ name: 'fleet/wave-2', from: C2 }] });
    // The first promotion creates the branch.
    expect(planPromotion(2, [ready('a')], [branch()])).toEqual({ kind: 'promote', wave: 2, to: C1, moves: [{ name: 'fleet/wave-2' }] });
  });

  it('refuses, naming each cluster of wave N-1 that is not Ready, with Flux\'s message', () => {
    const plan = planPromotion(3, [ready('a'), { cluster: 'b', ready: false, message: 'Ready=False: health check failed after 2m0s: timeout waiting for: [StatefulSet/emqx-single-node/emqx status: \'InProgress\']', commit: C1 }, { cluster: 'c', ready: false, message: 'cannot read Kustomization flux-system/emqx-c through context c: context was not found' }], [branch(C2)]);
    expect(plan.kind).toBe('refused');
    expect(plan.kind === 'refused' && plan.reason).toBe(
      '2 of 3 clusters of wave 2 are not Ready:\n' +
        "  b: Ready=False: health check failed after 2m0s: timeout waiting for: [StatefulSet/emqx-single-node/emqx status: 'InProgress']\n" +
        '  c: cannot read Kustomization flux-system/emqx-c through context c: context was not found\n' +
        'Fix: let wave 2 become Ready (or fix what keeps it from it, and merge), then promote again. Wave 3 keeps running what it runs.',
    );
  });

  it('refuses while wave N-1 runs several commits, and when there is nothing to promote', () => {
    const mixed = planPromotion(2, [ready('a', C1), ready('b', C2)], []);
    expect(mixed.kind === 'refused' && mixed.reason).toBe(`the clusters of wave 1 run 2 different commits:\n  ${C1.slice(0, 12)}: a\n  ${C2.slice(0, 12)}: b\nFix: wait until wave 1 runs one commit, then promote again.`);
    const same = planPromotion(2, [ready('a')], [branch(C1)]);
    expect(same.kind === 'refused' && same.reason).toBe(`nothing to promote: wave 2 (fleet/wave-2) already runs ${C1.slice(0, 12)}, what wave 1 runs.`);
    const ahead = planPromotion(2, [ready('a')], [branch(C2, true)]);
    expect(ahead.kind === 'refused' && ahead.reason).toMatch(/^nothing to promote: wave 2 \(fleet\/wave-2\) already runs 222222222222, which contains 111111111111/);
    expect(planPromotion(2, [], [branch()])).toEqual({ kind: 'refused', wave: 2, reason: 'wave 1 has no cluster.' });
  });

  it("moves the branch and each OCI site's wave tag that is behind, and only those", () => {
    const plan = planPromotion(2, [ready('a')], [branch(C1), site('s1', C2), site('s2'), site('s3', C1), site('s4', C3, { ahead: true })]);
    expect(plan).toEqual({ kind: 'promote', wave: 2, to: C1, moves: [{ name: 'registry.example.net/emqx/s1:wave-2', from: C2 }, { name: 'registry.example.net/emqx/s2:wave-2' }] });
    const none = planPromotion(2, [ready('a')], [branch(C1), site('s3', C1)]);
    expect(none.kind === 'refused' && none.reason).toBe(`nothing to promote: wave 2 already runs it:\n  fleet/wave-2: ${C1.slice(0, 12)}\n  registry.example.net/emqx/s3:wave-2: ${C1.slice(0, 12)}\nIt is what wave 1 runs.`);
  });

  it("refuses, moving nothing, when a site that must move has no artifact of the commit wave N-1 runs", () => {
    const plan = planPromotion(2, [ready('a')], [branch(C2), site('s1', C2, { unpublished: 'registry.example.net/emqx/s1:111111111111 is not in the registry (not found). Fix: publish that commit for it' }), site('s2', C1, { unpublished: 'never asked: it runs C1 already' })]);
    expect(plan).toEqual({ kind: 'refused', wave: 2, reason: `wave 1 runs ${C1.slice(0, 12)}, which wave 2 cannot be moved to:\n  registry.example.net/emqx/s1:111111111111 is not in the registry (not found). Fix: publish that commit for it\nNothing was moved.` });
  });

  it("an OCI site of wave N-1 runs what its artifact names; its revision gives the digest", () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(digestOfRevision(`wave-1@${digest}`)).toBe(digest);
    expect(digestOfRevision(`main@sha1:${C1}`)).toBeUndefined();
    expect(planPromotion(2, [{ cluster: 'oci-site', ready: true, message: 'Ready=True', revision: `wave-1@${digest}`, commit: C1 }], [branch(C2)])).toMatchObject({ kind: 'promote', to: C1 });
  });

  it('reads the commit out of Flux\'s revision, and the branch each wave follows', () => {
    expect(commitOfRevision(`main@sha1:${C1}`)).toBe(C1);
    expect(commitOfRevision(`fleet/wave-2@sha1:${C2}`)).toBe(C2);
    expect(commitOfRevision(`sha1:${C1}`)).toBe(C1);
    expect(commitOfRevision('main@sha1:abc')).toBeUndefined();
    expect(commitOfRevision(undefined)).toBeUndefined();
    expect([branchOfWave(1, 'main'), branchOfWave(2, 'main'), branchOfWave(3, 'release')]).toEqual(['main', 'fleet/wave-2', 'fleet/wave-3']);
  });
});
