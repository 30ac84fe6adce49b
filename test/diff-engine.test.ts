// The diff engine, pure: pairing, masking, danger rules, field paths, formats and truncation.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { diffObjectLists, diffOverlay } from '../scripts/lib/diff/engine.ts';
import { findWarnings, findWarnings as findDangerWarnings } from '../scripts/lib/diff/danger.ts';
import { formatJson } from '../scripts/lib/diff/format-json.ts';
import { COMMENT_MARKER, formatMarkdown, GITHUB_COMMENT_LIMIT } from '../scripts/lib/diff/format-markdown.ts';
import { formatText } from '../scripts/lib/diff/format-text.ts';
import { pairObjects } from '../scripts/lib/diff/pair.ts';
import type { DiffReport } from '../scripts/lib/diff/types.ts';
import { unifiedDiff } from '../scripts/lib/diff/unified.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';
import { configMap as configMapIn, emqxStatefulSet } from './helpers/objects.ts';

const NS = 'emqx-test';

const configMap = (name: string, data: Record<string, string>): K8sObject => configMapIn(name, data, NS);

function secret(name: string, data: Record<string, string>, stringData?: Record<string, string>): K8sObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, type: 'Opaque', data, ...(stringData ? { stringData } : {}) };
}

/** Three brokers that name themselves by hostname, with a claim per pod unless `claims: false`. */
function statefulSet(options: { replicas?: number; image?: string; serviceName?: string; claims?: boolean; envFrom?: string; namespace?: string; env?: Array<Record<string, unknown>> } = {}): K8sObject {
  return emqxStatefulSet({
    namespace: options.namespace ?? NS,
    replicas: options.replicas ?? 3,
    image: options.image,
    serviceName: options.serviceName,
    envFrom: [{ configMapRef: { name: options.envFrom ?? 'emqx-env-aaaaaaaaaa' } }],
    env: options.env ?? [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'EMQX_CLUSTER__K8S__NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'EMQX_HOST', value: '$(POD_NAME).$(EMQX_CLUSTER__K8S__SERVICE_NAME).$(EMQX_CLUSTER__K8S__NAMESPACE).$(EMQX_CLUSTER__K8S__SUFFIX)' },
      { name: 'EMQX_NODE__NAME', value: '$(EMQX_NAME)@$(EMQX_HOST)' },
    ],
    spec: {
      podManagementPolicy: 'Parallel',
      ...(options.claims === false
        ? {}
        : { volumeClaimTemplates: [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'emqx-data' }, spec: { resources: { requests: { storage: '10Gi' } } } }] }),
    },
  });
}

const ENV = { EMQX_NAME: 'emqx', EMQX_CLUSTER__K8S__SERVICE_NAME: 'emqx-headless', EMQX_CLUSTER__K8S__SUFFIX: 'svc.cluster.local', EMQX_CLUSTER__K8S__ADDRESS_TYPE: 'hostname' };

describe('pairing', () => {
  it('pairs by group, kind, namespace and name', () => {
    const pairs = pairObjects([configMap('a', {}), statefulSet()], [statefulSet({ replicas: 5 }), configMap('b', {})]);
    expect(pairs.map((p) => [p.id.kind, p.id.name, Boolean(p.base), Boolean(p.head)])).toEqual([
      ['StatefulSet', 'emqx', true, true],
      ['ConfigMap', 'b', false, true],
      ['ConfigMap', 'a', true, false],
    ]);
  });

  it('shows a generated ConfigMap whose hash suffix changed as one change, not a removal and an addition', () => {
    const changes = diffObjectLists([configMap('emqx-env-aaaaaaaaaa', { A: '1' })], [configMap('emqx-env-bbbbbbbbbb', { A: '2' })]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ change: 'changed', previousName: 'emqx-env-aaaaaaaaaa', id: { name: 'emqx-env-bbbbbbbbbb' } });
    expect(changes[0]!.paths).toEqual(expect.arrayContaining(['metadata.name', 'data.A']));
    expect(changes[0]!.diff).toContain('-  A: "1"');
    expect(changes[0]!.diff).toContain('+  A: "2"');
  });

  it('does not pair across a hash suffix when a side has two candidates', () => {
    const changes = diffObjectLists([configMap('x-aaaaaaaaaa', {})], [configMap('x-bbbbbbbbbb', {}), configMap('x-cccccccccc', {})]);
    expect(changes.map((c) => c.change).sort()).toEqual(['added', 'added', 'removed']);
  });

  it('does not strip suffixes from kinds kustomize never hashes', () => {
    const svc = (name: string): K8sObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS } });
    expect(diffObjectLists([svc('emqx-aaaaaaaaaa')], [svc('emqx-bbbbbbbbbb')]).map((c) => c.change).sort()).toEqual(['added', 'removed']);
  });

  it('ignores key order: the same object written differently is unchanged', () => {
    const a = { kind: 'ConfigMap', apiVersion: 'v1', data: { B: '2', A: '1' }, metadata: { namespace: NS, name: 'c' } } as K8sObject;
    expect(diffObjectLists([a], [configMap('c', { A: '1', B: '2' })])).toEqual([]);
  });

  it('names list items in field paths', () => {
    const [change] = diffObjectLists([statefulSet()], [statefulSet({ image: 'emqx/emqx:5.8.8' })]);
    expect(change!.paths).toEqual(['spec.template.spec.containers[emqx].image']);
  });
});

describe('unified diff', () => {
  it('prints hunks with context and line numbers', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\nh\n';
    const after = 'a\nb\nc\nd\nE\nf\ng\nh\n';
    expect(unifiedDiff(before, after)).toBe('@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n');
    expect(unifiedDiff(before, before)).toBe('');
  });
});

describe('Secret masking', () => {
  const VALUES = ['hunter2-cookie-value', 'old-dashboard-pw', 'new-dashboard-pw', 'plain-string-data'];
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const before = secret('emqx-secrets', { 'node-cookie': b64(VALUES[0]!), 'dashboard-password': b64(VALUES[1]!), gone: b64('bye-bye-value') });
  const after = secret('emqx-secrets', { 'node-cookie': b64(VALUES[0]!), 'dashboard-password': b64(VALUES[2]!), fresh: b64('brand-new-value') }, { extra: VALUES[3]! });
  const overlay = diffOverlay({ name: 'o', dir: 'overlays/o', base: [before], head: [after] });
  const removedOverlay = diffOverlay({ name: 'r', dir: 'overlays/r', base: [before] });
  const report: DiffReport = { base: { ref: 'main', commit: 'a'.repeat(40) }, head: { ref: 'working tree' }, overlays: [overlay, removedOverlay] };
  const outputs = { markdown: formatMarkdown(report), text: formatText(report), json: formatJson(report) };
  const forbidden = [...VALUES, 'bye-bye-value', 'brand-new-value'].flatMap((v) => [
    v,
    b64(v),
    createHash('sha256').update(v).digest('hex'),
    createHash('sha256').update(b64(v)).digest('hex'),
    createHash('md5').update(v).digest('hex'),
    createHash('sha1').update(v).digest('hex'),
  ]);

  it.each(Object.keys(outputs))('never shows a value, its base64 or a hash of it in %s', (format) => {
    const text = outputs[format as keyof typeof outputs];
    for (const f of forbidden) expect(text).not.toContain(f);
    expect(text).toContain('<masked');
  });

  it('lists keys as added, removed and changed', () => {
    expect(overlay.changes[0]!.secretKeys).toEqual([
      { key: 'dashboard-password', field: 'data', change: 'changed' },
      { key: 'fresh', field: 'data', change: 'added' },
      { key: 'gone', field: 'data', change: 'removed' },
      { key: 'extra', field: 'stringData', change: 'added' },
    ]);
    expect(outputs.markdown).toContain('keys dashboard-password changed, fresh added, gone removed, extra added (values hidden)');
  });

  it("hides the content hash in a generated Secret's name, everywhere it is referenced, and still shows the rollout", () => {
    const generated = (suffix: string, value: string) => secret(`emqx-secrets-${suffix}`, { 'node-cookie': b64(value) });
    const pod = (suffix: string) => statefulSet({ env: [{ name: 'EMQX_NODE__COOKIE', valueFrom: { secretKeyRef: { name: `emqx-secrets-${suffix}`, key: 'node-cookie' } } }] });
    const changed = diffOverlay({ name: 'g', dir: 'overlays/g', base: [generated('7g5k2m9t4c', 'one-cookie'), pod('7g5k2m9t4c')], head: [generated('h2b8c6d9f5', 'two-cookie'), pod('h2b8c6d9f5')] });
    const text = formatText({ base: { ref: 'main', commit: 'b'.repeat(40) }, head: { ref: 'working tree' }, overlays: [changed] });
    expect(text).not.toContain('7g5k2m9t4c');
    expect(text).not.toContain('h2b8c6d9f5');
    const secretChange = changed.changes.find((c) => c.id.kind === 'Secret')!;
    expect(secretChange.change).toBe('changed'); // paired across the suffix, not removed + added
    expect(secretChange.secretKeys).toEqual([{ key: 'node-cookie', field: 'data', change: 'changed' }]);
    const podChange = changed.changes.find((c) => c.id.kind === 'StatefulSet')!;
    expect(podChange.diff).toMatch(/^-\s+name: emqx-secrets-<old hash>$/m);
    expect(podChange.diff).toMatch(/^\+\s+name: emqx-secrets-<new hash>$/m);

    const same = diffOverlay({ name: 'g', dir: 'overlays/g', base: [generated('7g5k2m9t4c', 'one-cookie'), pod('7g5k2m9t4c')], head: [generated('7g5k2m9t4c', 'one-cookie'), pod('7g5k2m9t4c')] });
    expect(same.status).toBe('unchanged');
  });

  it('shows a changed value as a changed line without the value', () => {
    expect(overlay.changes[0]!.diff).toContain('-  dashboard-password: "<masked: old value>"');
    expect(overlay.changes[0]!.diff).toContain('+  dashboard-password: "<masked: new value>"');
  });
});

describe('danger rules', () => {
  const cm = configMap('emqx-env-aaaaaaaaaa', ENV);

  it('flags immutable StatefulSet fields with the way through for Argo CD and Flux', () => {
    const [w, ...rest] = findWarnings('o', [statefulSet(), cm], [statefulSet({ serviceName: 'other' }), cm]);
    expect(w).toMatchObject({ rule: 'immutable-field', object: `StatefulSet ${NS}/emqx` });
    expect(w!.message).toContain('`spec.serviceName`');
    expect(w!.remedy).toContain('--cascade=orphan');
    expect(w!.remedy).toContain('Replace=true');
    expect(w!.remedy).toContain('kustomize.toolkit.fluxcd.io/force: enabled');
    // serviceName is not what the nodes are named after here (the env is): no node-name warning.
    expect(rest.map((r) => r.rule)).toEqual([]);
  });

  it('flags a Deployment selector, a Service clusterIP, a RoleBinding roleRef and a PVC storage class', () => {
    const dep = (app: string): K8sObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: NS }, spec: { selector: { matchLabels: { app } } } });
    const svc = (ip?: string): K8sObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: NS }, spec: ip ? { clusterIP: ip } : {} });
    const rb = (role: string): K8sObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'rb', namespace: NS }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role } });
    const pvc = (sc: string): K8sObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'p', namespace: NS }, spec: { storageClassName: sc } });
    // A clusterIP left out keeps the allocated one (the server copies it over); naming another is refused.
    const warnings = findWarnings('o', [dep('a'), svc(), rb('r1'), pvc('fast')], [dep('b'), svc('None'), rb('r2'), pvc('slow')]);
    expect(warnings.map((w) => [w.rule, w.object])).toEqual([
      ['immutable-field', `Deployment ${NS}/d`],
      ['immutable-field', `Service ${NS}/s`],
      ['immutable-field', `RoleBinding ${NS}/rb`],
      ['immutable-field', `PersistentVolumeClaim ${NS}/p`],
    ]);
  });

  it('does not flag mutable changes', () => {
    expect(findWarnings('o', [statefulSet(), cm], [statefulSet({ replicas: 5 }), cm])).toEqual([]);
  });

  it('flags an EMQX node-name change through the ConfigMap (cluster suffix) and names the cause', () => {
    const cm2 = configMap('emqx-env-bbbbbbbbbb', { ...ENV, EMQX_CLUSTER__K8S__SUFFIX: 'svc.example.org' });
    const warnings = findWarnings('o', [statefulSet(), cm], [statefulSet({ envFrom: 'emqx-env-bbbbbbbbbb' }), cm2]);
    expect(warnings.map((w) => w.rule)).toContain('emqx-node-name');
    const w = warnings.find((x) => x.rule === 'emqx-node-name')!;
    expect(w.message).toContain(`emqx@⟨metadata.name⟩.emqx-headless.${NS}.svc.cluster.local`);
    expect(w.message).toContain(`emqx@⟨metadata.name⟩.emqx-headless.${NS}.svc.example.org`);
    expect(w.message).toContain('EMQX_CLUSTER__K8S__SUFFIX');
  });

  it('flags a namespace move (a removal plus an addition) as a node-name change and the StatefulSet removal', () => {
    const moved = configMap('emqx-env-aaaaaaaaaa', ENV);
    (moved.metadata as { namespace: string }).namespace = 'elsewhere';
    const warnings = findWarnings('o', [statefulSet(), cm], [statefulSet({ namespace: 'elsewhere' }), moved]);
    expect(warnings.map((w) => w.rule).sort()).toEqual(['data-removed', 'emqx-node-name']);
    expect(warnings.find((w) => w.rule === 'emqx-node-name')!.message).toContain('the namespace');
  });

  it('flags scaling a PVC-backed StatefulSet down, naming the claims left behind', () => {
    const [w] = findWarnings('o', [statefulSet({ replicas: 3 }), cm], [statefulSet({ replicas: 1 }), cm]);
    expect(w!.rule).toBe('statefulset-scale-down');
    expect(w!.message).toContain('emqx-data-emqx-1, emqx-data-emqx-2');
    expect(findWarnings('o', [statefulSet({ replicas: 3, claims: false }), cm], [statefulSet({ replicas: 1, claims: false }), cm])).toEqual([]);
  });

  it('flags an image upgrade across 5.9 on a multi-node cluster without a licence, not on one node', () => {
    // A version bump also gets emqx-config-default (test/emqx-config-diff.test.ts): not looked at here.
    const findWarnings = (...args: Parameters<typeof findDangerWarnings>) => findDangerWarnings(...args).filter((w) => w.rule !== 'emqx-config-default');
    const up = findWarnings('o', [statefulSet(), cm], [statefulSet({ image: 'emqx/emqx:5.10.0' }), cm]);
    expect(up.map((w) => w.rule)).toEqual(['emqx-licence']);
    expect(findWarnings('o', [statefulSet(), cm], [statefulSet({ image: 'emqx/emqx:latest' }), cm]).map((w) => w.rule)).toEqual(['emqx-licence']);
    expect(findWarnings('o', [statefulSet({ replicas: 1 }), cm], [statefulSet({ replicas: 1, image: 'emqx/emqx:5.9.0' }), cm])).toEqual([]);
    expect(findWarnings('o', [statefulSet(), cm], [statefulSet({ image: 'emqx/emqx:5.8.8' }), cm])).toEqual([]);
  });

  it('flags removed objects that hold data', () => {
    const pvc: K8sObject = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'p', namespace: NS } };
    const warnings = findWarnings('o', [statefulSet(), pvc, cm], []);
    expect(warnings.map((w) => [w.rule, w.object])).toEqual([
      ['data-removed', `StatefulSet ${NS}/emqx`],
      ['data-removed', `PersistentVolumeClaim ${NS}/p`],
    ]);
    expect(warnings[0]!.remedy).toContain('Prune=false');
  });
});

describe('markdown truncation', () => {
  // 60 changed ConfigMaps of ~3,000 characters each: far over GitHub's limit.
  const big = (i: number, v: string) => configMap(`cm-${String(i).padStart(2, '0')}`, Object.fromEntries(Array.from({ length: 60 }, (_, k) => [`KEY_${k}`, `${v}-${'x'.repeat(30)}`])));
  const overlay = diffOverlay({ name: 'big', dir: 'overlays/big', base: Array.from({ length: 60 }, (_, i) => big(i, 'old')), head: Array.from({ length: 60 }, (_, i) => big(i, 'new')) });
  const report: DiffReport = { base: { ref: 'main', commit: 'b'.repeat(40) }, head: { ref: 'working tree' }, overlays: [overlay] };
  const comment = formatMarkdown(report);

  it('stays under the limit and starts with the hidden marker', () => {
    expect(comment.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT - 1_536);
    expect(comment.startsWith(COMMENT_MARKER)).toBe(true);
    expect(formatMarkdown(report, { limit: Number.POSITIVE_INFINITY }).length).toBeGreaterThan(GITHUB_COMMENT_LIMIT);
  });

  it('cuts whole objects only, and says which were left out and where the full diff is', () => {
    const shown = overlay.changes.filter((c) => comment.includes(`\`ConfigMap ${NS}/${c.id.name}\`: `));
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(60);
    // Every object shown is shown with its complete diff.
    for (const c of shown) expect(comment).toContain(c.diff);
    expect(comment).toMatch(/\d+ object diffs were left out/);
    expect(comment).toContain('Left out to fit the comment limit');
    expect(comment).toContain('`pr-diff` artifact');
    // Fences balance: the comment does not end inside a code block.
    expect((comment.match(/^```/gm) ?? []).length % 2).toBe(0);
  });

  it('puts the summary table, then warnings, then the overlays', () => {
    const withWarning: DiffReport = { ...report, overlays: [{ ...overlay, warnings: [{ overlay: 'big', rule: 'data-removed', object: 'X', message: 'm', remedy: 'r' }] }] };
    const md = formatMarkdown(withWarning);
    const table = md.indexOf('| Overlay | Status | Added | Removed | Changed | Warnings |');
    const warnings = md.indexOf('### ⚠️ Warnings');
    const overlays = md.indexOf('<details>');
    expect(table).toBeGreaterThan(0);
    expect(warnings).toBeGreaterThan(table);
    expect(overlays).toBeGreaterThan(warnings);
    expect(md).toContain('| big | changed | 0 | 0 | 60 | ⚠️ 1 |');
  });
});
