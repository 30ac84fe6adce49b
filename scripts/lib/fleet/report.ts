// `npm run fleet -- report`: per cluster, every rendered field where it differs from its overlay's
// own render (fast-json-patch over the two renders, object by object), in one table; and the
// clusters that would run under one server or one identity. Secret values are never shown.
import path from 'node:path';
import jsonpatch from 'fast-json-patch';
import type { Kustomize } from '../tools/kustomize.ts';
import { asArray, asRecord, asString, type K8sObject } from '../model/object.ts';
import type { Overlay } from '../model/overlays.ts';
import { renderOverlays } from '../model/render.ts';
import { parseObjects } from '../model/render-stream.ts';
import { byName } from '../gitops/fleet.ts';
import { naturalCompare } from '../util/natural-sort.ts';
import { readInventory } from './inventory.ts';

export const REPORT_FORMATS = ['text', 'markdown', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface Deviation {
  readonly cluster: string;
  readonly overlay: string;
  /** Kind/name (names of generated ConfigMaps and Secrets without their hash suffix). */
  readonly object: string;
  /** A JSON pointer into the object; '' for an object added or removed as a whole. */
  readonly field: string;
  readonly from: string;
  readonly to: string;
}

export interface SharedIdentity {
  /** What they share: `server`, `public name`, `cookie source`. */
  readonly what: string;
  readonly value: string;
  readonly clusters: readonly string[];
  readonly why: string;
}

export interface FleetReport {
  readonly clusters: readonly { name: string; overlay: string; region: string; server: string; wave: number; deviations: number }[];
  readonly deviations: readonly Deviation[];
  readonly shared: readonly SharedIdentity[];
  /** Render failures, complete messages. */
  readonly failures: readonly string[];
}

const HIDDEN = '(hidden)';
const ABSENT = '(absent)';
/** kustomize's hash suffix on generated ConfigMaps and Secrets. */
const HASH_SUFFIX = /-[a-z0-9]{10}$/;

function objectKey(o: K8sObject): string {
  const name = o.kind === 'ConfigMap' || o.kind === 'Secret' ? o.metadata.name.replace(HASH_SUFFIX, '') : o.metadata.name;
  return `${o.kind}/${name}`;
}

/** The render with generated names' hashes taken out everywhere they are referenced. */
function normalise(objects: readonly K8sObject[]): Map<string, K8sObject> {
  const hashed = new Map<string, string>();
  for (const o of objects) if ((o.kind === 'ConfigMap' || o.kind === 'Secret') && HASH_SUFFIX.test(o.metadata.name)) hashed.set(o.metadata.name, o.metadata.name.replace(HASH_SUFFIX, ''));
  const strip = (value: unknown): unknown => {
    if (typeof value === 'string') return hashed.get(value) ?? value;
    if (Array.isArray(value)) return value.map(strip);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strip(v)]));
    return value;
  };
  return new Map(objects.map((o) => [objectKey(o), strip(o) as K8sObject]));
}

const show = (value: unknown): string => {
  if (value === undefined) return ABSENT;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
};

/**
 * Lists whose every item has a `name` (containers, env, volumes, ports ...) become maps keyed
 * `name=<name>`, so a row says which item changed instead of an index that shifts.
 */
function keyedByName(value: unknown): unknown {
  if (Array.isArray(value)) {
    const named = value.length > 0 && value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as { name?: unknown }).name === 'string');
    if (named && new Set(value.map((v) => (v as { name: string }).name)).size === value.length) {
      return Object.fromEntries(value.map((v) => [`name=${(v as { name: string }).name}`, keyedByName(v)]));
    }
    return value.map(keyedByName);
  }
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, keyedByName(v)]));
  return value;
}

/** A value as rows of leaves: objects are walked, lists of scalars stay one value. */
function leaves(pointer: string, value: unknown): [string, unknown][] {
  if (value !== null && typeof value === 'object' && !(Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object'))) {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    if (entries.length === 0) return [[pointer, value]];
    return entries.flatMap(([k, v]) => leaves(`${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, v));
  }
  return [[pointer, value]];
}

/** Every field of `cluster` that differs from `overlay`, object by object, leaf by leaf. */
export function deviationsOf(clusterName: string, overlayName: string, overlay: readonly K8sObject[], cluster: readonly K8sObject[]): Deviation[] {
  const base = normalise(overlay);
  const mine = normalise(cluster);
  const rows: Deviation[] = [];
  const keys = [...new Set([...base.keys(), ...mine.keys()])].sort();
  for (const key of keys) {
    const a = base.get(key);
    const b = mine.get(key);
    const secret = key.startsWith('Secret/');
    const row = (field: string, from: string, to: string) => rows.push({ cluster: clusterName, overlay: overlayName, object: key, field, from, to });
    const first = rows.length;
    if (!a) row('', ABSENT, 'added');
    else if (!b) row('', 'present', 'removed');
    else {
      const before = keyedByName(a) as object;
      const after = keyedByName(b) as object;
      for (const op of jsonpatch.compare(before, after)) {
        const old = op.op === 'add' ? undefined : jsonpatch.getValueByPointer(before, op.path);
        const next = op.op === 'remove' ? undefined : (op as { value: unknown }).value;
        // A Secret's data, or anything else in it, never reaches the output: only that it changed.
        const hide = secret && !op.path.startsWith('/metadata/labels') && !op.path.startsWith('/metadata/annotations');
        const oldLeaves = new Map(old === undefined ? [] : leaves(op.path, old));
        const newLeaves = new Map(next === undefined ? [] : leaves(op.path, next));
        // A keyed item's own name is already in its path (.../name=emqx-data).
        const fields = [...new Set([...oldLeaves.keys(), ...newLeaves.keys()])].filter((f) => !/\/name=([^/]*)\/name$/.test(f));
        for (const field of fields.sort()) {
          const from = oldLeaves.get(field);
          const to = newLeaves.get(field);
          if (oldLeaves.has(field) && newLeaves.has(field) && JSON.stringify(from) === JSON.stringify(to)) continue;
          const shown = (v: unknown, present: boolean) => (!present ? ABSENT : hide ? HIDDEN : show(v));
          row(field, shown(from, oldLeaves.has(field)), shown(to, newLeaves.has(field)));
        }
      }
    }
    rows.splice(first, rows.length - first, ...rows.slice(first).sort((x, y) => x.field.localeCompare(y.field, 'en', { numeric: true })));
  }
  return rows;
}

/** The names clients reach a cluster by from outside: its certificate's non-cluster names and the load balancer's hostname annotation. */
function publicNames(objects: readonly K8sObject[]): string[] {
  const names: string[] = [];
  for (const o of objects) {
    if (o.kind === 'Certificate') {
      const dnsNames = asRecord(asRecord(o).spec).dnsNames;
      for (const n of (Array.isArray(dnsNames) ? dnsNames : []).map(String)) if (n.includes('.') && !/\.svc(\.|$)/.test(n) && !/^emqx\.[^.]+$/.test(n)) names.push(n);
    }
    if (o.kind === 'Service') {
      const host = o.metadata.annotations?.['external-dns.alpha.kubernetes.io/hostname'];
      if (host) names.push(...host.split(',').map((h) => h.trim()));
    }
  }
  return [...new Set(names)];
}

/** Where the Erlang cookie comes from, when git says so (an ExternalSecret's store and key). */
function cookieSources(objects: readonly K8sObject[]): string[] {
  const sources: string[] = [];
  for (const o of objects) {
    if (o.kind !== 'ExternalSecret') continue;
    const spec = asRecord(asRecord(o).spec);
    const store = asRecord(spec.secretStoreRef);
    for (const d of asArray(spec.data)) {
      if (asString(d.secretKey) === 'node-cookie') sources.push(`${asString(store.kind) ?? 'SecretStore'}/${asString(store.name)}: ${asString(asRecord(d.remoteRef).key)}`);
    }
  }
  return sources;
}

/** Two or more clusters with the same value of one identity fact. */
export function sharedIdentities(clusters: readonly { name: string; server: string; objects: readonly K8sObject[] }[]): SharedIdentity[] {
  const facts: { what: string; why: string; of: (c: (typeof clusters)[number]) => string[] }[] = [
    { what: 'server', why: 'both would deploy to one cluster, into one namespace, and fight over the same objects', of: (c) => [c.server.replace(/\/+$/, '').toLowerCase()] },
    { what: 'public name', why: 'clients dialling it would reach either cluster, and each certificate claims it', of: (c) => publicNames(c.objects) },
    { what: 'cookie source', why: 'one Erlang cookie for two clusters: a node of one can join or control the other', of: (c) => cookieSources(c.objects) },
  ];
  const shared: SharedIdentity[] = [];
  for (const fact of facts) {
    const by = new Map<string, string[]>();
    for (const c of clusters) for (const v of fact.of(c)) by.set(v, [...(by.get(v) ?? []), c.name]);
    for (const [value, names] of by) if (names.length > 1) shared.push({ what: fact.what, value, clusters: names, why: fact.why });
  }
  return shared;
}

/** Renders every cluster and every overlay they use in one batched call, and compares. */
export async function fleetReport(root: string, kustomize: Kustomize): Promise<FleetReport> {
  const inventory = readInventory({ root, tolerate: ['duplicate-server'] });
  const clusters = byName(inventory.clusters);
  const overlays: Overlay[] = [...new Set(clusters.map((c) => c.overlay))].sort().map((name) => ({ name: `overlay:${name}`, dir: path.join(root, 'overlays', name) }));
  const targets: Overlay[] = [...overlays, ...clusters.map((c) => ({ name: c.name, dir: c.dir }))];
  const { rendered, failures } = await renderOverlays(kustomize, targets, { batch: true });
  const objects = new Map(rendered.map((r) => [r.overlay.name, parseObjects(r.yaml)]));
  const deviations: Deviation[] = [];
  const summary: FleetReport['clusters'][number][] = [];
  const renderedClusters: { name: string; server: string; objects: readonly K8sObject[] }[] = [];
  for (const c of clusters) {
    const mine = objects.get(c.name);
    const base = objects.get(`overlay:${c.overlay}`);
    const rows = mine && base ? deviationsOf(c.name, c.overlay, base, mine) : [];
    deviations.push(...rows);
    summary.push({ name: c.name, overlay: c.overlay, region: c.region, server: c.server, wave: c.wave, deviations: rows.length });
    renderedClusters.push({ name: c.name, server: c.server, objects: mine ?? [] });
  }
  return { clusters: summary, deviations, shared: sharedIdentities(renderedClusters), failures: failures.map((f) => f.message) };
}

/** Wave by wave, the order a change reaches the clusters; by name within a wave. */
function rowsOf(report: FleetReport): string[][] {
  const inOrder = [...report.clusters].sort((a, b) => a.wave - b.wave || naturalCompare(a.name, b.name));
  return inOrder.flatMap((c) => {
    const rows = report.deviations.filter((d) => d.cluster === c.name);
    if (rows.length === 0) return [[String(c.wave), c.name, c.overlay, '', '(same as the overlay)', '', '']];
    return rows.map((d) => [String(c.wave), d.cluster, d.overlay, d.object, d.field || '(whole object)', d.from, d.to]);
  });
}

const HEAD = ['wave', 'cluster', 'overlay', 'object', 'field', 'overlay value', 'cluster value'];

/** `wave 1: store-0012 (1 cluster); wave 2: ...`: who gets a change first. */
function wavesLine(report: FleetReport): string {
  const waves = [...new Set(report.clusters.map((c) => c.wave))].sort((a, b) => a - b);
  return waves
    .map((w) => {
      const names = report.clusters.filter((c) => c.wave === w).map((c) => c.name).sort(naturalCompare);
      return `wave ${w}: ${names.length} cluster${names.length === 1 ? '' : 's'}${names.length <= 3 ? ` (${names.join(', ')})` : ''}`;
    })
    .join('; ');
}

export function formatReport(report: FleetReport, format: ReportFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  const rows = rowsOf(report);
  const out: string[] = [];
  const n = report.clusters.length;
  const deviating = report.clusters.filter((c) => c.deviations > 0).length;
  if (format === 'markdown') {
    const cell = (s: string) => (s === '' || /^\(.*\)$/.test(s) ? s : `\`${s.replace(/\|/g, '\\|').replace(/`/g, "'")}\``);
    out.push(`### Fleet: ${n} clusters, ${deviating} deviate from their overlay`, '');
    if (n > 0) out.push(`Rollout order: ${wavesLine(report)}.`, '');
    out.push(`| ${HEAD.join(' | ')} |`, `|${HEAD.map(() => '---').join('|')}|`);
    for (const r of rows) out.push(`| ${r[0]} | ${r[1]} | ${r[2]} | ${[r[3], r[4], r[5], r[6]].map((s) => cell(s!)).join(' | ')} |`);
    if (report.shared.length > 0) {
      out.push('', '#### Shared server or identity', '');
      for (const s of report.shared) out.push(`- **${s.what}** \`${s.value}\`: ${s.clusters.join(', ')}. ${s.why}.`);
    }
  } else {
    const widths = HEAD.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
    const line = (r: readonly string[]) => r.map((s, i) => (i === r.length - 1 ? s : s.padEnd(widths[i]!))).join('  ').trimEnd();
    out.push(`fleet: ${n} clusters, ${deviating} deviate from their overlay`);
    if (n > 0) out.push(`rollout order: ${wavesLine(report)}`);
    out.push('', line(HEAD), line(widths.map((w) => '-'.repeat(w))));
    for (const r of rows) out.push(line(r));
    if (report.shared.length > 0) {
      out.push('', 'shared server or identity:');
      for (const s of report.shared) out.push(`  ${s.what} ${s.value}: ${s.clusters.join(', ')}: ${s.why}.`);
    }
  }
  for (const f of report.failures) out.push('', f);
  return `${out.join('\n')}\n`;
}
