// clusters/inventory.yaml: the one list of which clusters exist, which overlay each runs, and how
// Argo CD and Flux reach it. Pure checks over the parsed file (tests call them with plain data),
// plus a small reader. Each problem names the entry (and its line), the field and the fix.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { EXIT_FINDINGS, UserError } from '../cli/errors.ts';
import type { OciSource } from '../gitops/fleet.ts';
import { overlayNamespace } from '../gitops/flux.ts';
import { listOverlays } from '../model/overlays.ts';
import { lastWave } from '../model/waves.ts';
import { displayPath, REPO_ROOT } from '../util/paths.ts';

export const CLUSTERS_DIR = path.join(REPO_ROOT, 'clusters');
export const INVENTORY_FILE = 'inventory.yaml';
/** The JSON schema editors use (the `# yaml-language-server: $schema=` line of the inventory). */
export const INVENTORY_SCHEMA_FILE = 'inventory.schema.json';

/** One cluster, as the inventory declares it. */
export interface ClusterEntry {
  /** Also its directory, clusters/<name>, and its Argo CD Application / Flux Kustomization, emqx-<name>. */
  readonly name: string;
  /** A directory under overlays/. */
  readonly overlay: string;
  /** The cluster's Kubernetes API server, as Argo CD's cluster Secret names it. */
  readonly server: string;
  readonly region: string;
  /** Where the brokers may run (components/zone-spread spreads across them). */
  readonly zones?: readonly string[];
  /**
   * When a change reaches the cluster: wave 1 first (a canary site), then each later wave once the
   * one before it is healthy. Absent: the last wave, so a new cluster is never a canary by accident.
   */
  readonly wave?: number;
  /** Set when the cluster pulls its render from an OCI registry (`npm run publish`) instead of Git. */
  readonly oci?: OciSource;
  readonly description?: string;
}

/** The fields of `oci:`; inventory.schema.json lists the same (a test compares them). */
export const OCI_FIELDS = ['registry', 'insecure', 'caSecret', 'pullSecret'] as const;

/** The fields an entry may have; inventory.schema.json lists the same (a test compares them). */
export const CLUSTER_FIELDS = ['name', 'overlay', 'server', 'region', 'zones', 'wave', 'oci', 'description'] as const;
/** More waves than this is a typo (wave: 100), not a rollout plan. */
export const MAX_WAVE = 9;
const REQUIRED_FIELDS = ['name', 'overlay', 'server', 'region'] as const;
const TOP_LEVEL_FIELDS = ['clusters'] as const;

/** An entry with what the toolchain derives from it. */
export interface Cluster extends ClusterEntry {
  /** Absolute: clusters/<name>. */
  readonly dir: string;
  /** Repository-relative, `/`-separated: what Argo CD and Flux deploy. */
  readonly path: string;
  /** The overlay's namespace: every cluster of an overlay renders the same names into it. */
  readonly namespace: string;
  /** Its wave, the inventory's last wave when the entry names none. */
  readonly wave: number;
}

export interface Inventory {
  /** Absolute path of inventory.yaml. */
  readonly file: string;
  readonly clusters: readonly Cluster[];
}

export type ProblemKind = 'syntax' | 'shape' | 'unknown-field' | 'missing-field' | 'bad-value' | 'unknown-overlay' | 'duplicate-name' | 'duplicate-server' | 'wave-gap';

export interface InventoryProblem {
  readonly kind: ProblemKind;
  /** The cluster's name, or `entry N` when it has none. */
  readonly entry?: string;
  /** Complete: file:line, the entry, the field, the fix. */
  readonly message: string;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** emqx-<name> must stay a valid DNS label (Application and Kustomization names, 63 characters). */
const MAX_NAME = 63 - 'emqx-'.length;

export interface CheckContext {
  /** The overlay directories that exist (names under overlays/). */
  readonly overlays: readonly string[];
  /** For messages: the inventory's path as the user sees it. */
  readonly file: string;
  /** 1-based line of entry i, when known. */
  readonly lineOf?: (index: number) => number | undefined;
}

/**
 * Checks parsed inventory data. Returns the entries that are well-formed and every problem found
 * (all at once, so one run lists everything to fix).
 */
export function checkInventory(data: unknown, context: CheckContext): { entries: ClusterEntry[]; problems: InventoryProblem[] } {
  const problems: InventoryProblem[] = [];
  const at = (index: number) => {
    const line = context.lineOf?.(index);
    return line ? `${context.file}:${line}` : context.file;
  };
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { entries: [], problems: [{ kind: 'shape', message: `${context.file}: expected a mapping with a \`clusters:\` list. Fix: start from the example in docs/fleet.md.` }] };
  }
  for (const key of Object.keys(data)) {
    if (!(TOP_LEVEL_FIELDS as readonly string[]).includes(key)) {
      problems.push({ kind: 'unknown-field', message: `${context.file}: unknown top-level field "${key}". Fix: remove it; the file holds only \`clusters:\`.` });
    }
  }
  const list = (data as { clusters?: unknown }).clusters;
  if (!Array.isArray(list)) {
    problems.push({ kind: 'shape', message: `${context.file}: field clusters: expected a list of clusters${list === undefined ? ', found none' : ''}. Fix: \`clusters: []\` for an empty fleet.` });
    return { entries: [], problems };
  }

  const entries: ClusterEntry[] = [];
  list.forEach((raw: unknown, index) => {
    const label = (e: unknown) => (e && typeof e === 'object' && typeof (e as { name?: unknown }).name === 'string' ? `cluster "${(e as { name: string }).name}"` : `entry ${index + 1}`);
    const where = `${at(index)}: ${label(raw)}`;
    const entry = label(raw).startsWith('cluster') ? (raw as { name: string }).name : `entry ${index + 1}`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push({ kind: 'shape', entry, message: `${where}: expected a mapping (name, overlay, server, region). Fix: write the entry as \`- name: ...\`.` });
      return;
    }
    const record = raw as Record<string, unknown>;
    let ok = true;
    const problem = (kind: ProblemKind, message: string) => {
      ok = false;
      problems.push({ kind, entry, message: `${where}: ${message}` });
    };
    for (const key of Object.keys(record)) {
      if (!(CLUSTER_FIELDS as readonly string[]).includes(key)) {
        problem(
          'unknown-field',
          `unknown field "${key}". Fix: remove it or correct its spelling; an entry has ${CLUSTER_FIELDS.join(', ')}. ` +
            "A cluster's own settings (replicas, storage, domain, ...) go into its directory, clusters/<name>/kustomization.yaml.",
        );
      }
    }
    for (const key of REQUIRED_FIELDS) {
      if (record[key] === undefined) problem('missing-field', `field ${key} is missing. Fix: add \`${key}: ...\` (${fieldHint(key, context.overlays)}).`);
      else if (typeof record[key] !== 'string' || record[key] === '') problem('bad-value', `field ${key}: expected a non-empty string, found ${JSON.stringify(record[key])}. Fix: ${fieldHint(key, context.overlays)}.`);
    }
    if (record.zones !== undefined && !(Array.isArray(record.zones) && record.zones.every((z) => typeof z === 'string' && z !== ''))) {
      problem('bad-value', `field zones: expected a list of zone names, found ${JSON.stringify(record.zones)}. Fix: \`zones: [eu-west-1a, eu-west-1b]\`, or remove the field.`);
    }
    if (record.wave !== undefined && !(Number.isInteger(record.wave) && (record.wave as number) >= 1 && (record.wave as number) <= MAX_WAVE)) {
      problem('bad-value', `field wave: expected a whole number from 1 to ${MAX_WAVE}, found ${JSON.stringify(record.wave)}. Fix: \`wave: 1\` for a canary cluster that gets every change first, a higher wave for later ones, or remove the field for the last wave.`);
    }
    if (record.oci !== undefined) for (const message of ociProblems(record.oci)) problem('bad-value', message);
    if (record.description !== undefined && typeof record.description !== 'string') problem('bad-value', 'field description: expected a string. Fix: quote it.');
    const name = record.name;
    if (typeof name === 'string' && name !== '') {
      if (!NAME.test(name) || name.length > MAX_NAME) {
        problem('bad-value', `field name: "${name}" is not a valid cluster name (lower-case letters, digits and "-", at most ${MAX_NAME} characters: it becomes a directory and the Application emqx-${name}). Fix: rename the entry.`);
      } else if (context.overlays.includes(name)) {
        problem('bad-value', `field name: "${name}" is also an overlay's name, and both would render to rendered/${name}.yaml. Fix: give the cluster another name (e.g. its region or site).`);
      }
    }
    const overlay = record.overlay;
    if (typeof overlay === 'string' && overlay !== '' && !context.overlays.includes(overlay)) {
      problem('unknown-overlay', `field overlay: overlays/${overlay} does not exist. Fix: use one of ${context.overlays.join(', ') || '(none: overlays/ is empty)'}, or create overlays/${overlay} first.`);
    }
    const server = record.server;
    if (typeof server === 'string' && server !== '' && !/^https:\/\/[^\s/]+(\/\S*)?$/.test(server)) {
      problem('bad-value', `field server: "${server}" is not an https:// URL. Fix: the cluster API server's URL as Argo CD's cluster Secret has it, e.g. https://eu-west.k8s.example.net:6443.`);
    }
    if (ok) {
      const e = record as unknown as ClusterEntry;
      entries.push({ name: e.name, overlay: e.overlay, server: e.server, region: e.region, ...(e.zones ? { zones: [...e.zones] } : {}), ...(e.wave !== undefined ? { wave: e.wave } : {}), ...(e.oci ? { oci: { ...e.oci } } : {}), ...(e.description !== undefined ? { description: e.description } : {}) });
    }
  });

  for (const [field, kind] of [['name', 'duplicate-name'], ['server', 'duplicate-server']] as const) {
    const seen = new Map<string, number[]>();
    list.forEach((raw: unknown, index) => {
      const value = raw && typeof raw === 'object' ? (raw as Record<string, unknown>)[field] : undefined;
      if (typeof value === 'string' && value !== '') seen.set(normalise(field, value), [...(seen.get(normalise(field, value)) ?? []), index]);
    });
    for (const [value, indexes] of seen) {
      if (indexes.length < 2) continue;
      const names = indexes.map((i) => `${at(i)} (${(list[i] as { name?: string }).name ?? `entry ${i + 1}`})`);
      const fix =
        field === 'name'
          ? 'each cluster needs its own name (it is its directory and its Application): rename one, or remove the duplicate entry'
          : 'two entries would deploy to one cluster, into the same namespace, and fight over the same objects: give each entry its own cluster\'s server, or remove one';
      problems.push({ kind, entry: (list[indexes[1]!] as { name?: string }).name, message: `${names.join(' and ')}: the same ${field} ${JSON.stringify(value)}. Fix: ${fix}.` });
    }
  }
  problems.push(...waveGaps(list, at));
  return { entries, problems };
}

const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `oci:`: a registry as `npm run publish --registry` takes it, and how Flux reaches it. */
function ociProblems(value: unknown): string[] {
  const example = 'Fix: `oci: {registry: registry.site.example.net:5000/emqx, insecure: true}` (plain HTTP) or with `caSecret: <Secret with ca.crt>` (docs/fleet.md, "Edge sites from an OCI registry")';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`field oci: expected a mapping with registry. ${example}.`];
  const oci = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(oci)) {
    if (!(OCI_FIELDS as readonly string[]).includes(key)) problems.push(`field oci.${key}: unknown. Fix: remove it or correct its spelling; oci has ${OCI_FIELDS.join(', ')}.`);
  }
  const registry = oci.registry;
  if (typeof registry !== 'string' || registry === '') problems.push(`field oci.registry: ${registry === undefined ? 'missing' : `expected HOST[:PORT]/PATH, found ${JSON.stringify(registry)}`}. ${example}.`);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(registry)) problems.push(`field oci.registry: "${registry}" has a scheme. Fix: write it as \`npm run publish -- --registry\` takes it, ${registry.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')}; plain HTTP is \`insecure: true\`.`);
  else if (!/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$/.test(registry)) problems.push(`field oci.registry: "${registry}" is not HOST[:PORT]/PATH with a lower-case path. ${example}.`);
  if (oci.insecure !== undefined && typeof oci.insecure !== 'boolean') problems.push(`field oci.insecure: expected true or false, found ${JSON.stringify(oci.insecure)}. Fix: \`insecure: true\` for plain HTTP, or remove it.`);
  for (const key of ['caSecret', 'pullSecret'] as const) {
    const v = oci[key];
    if (v !== undefined && !(typeof v === 'string' && SECRET_NAME.test(v))) problems.push(`field oci.${key}: expected a Secret's name in flux-system, found ${JSON.stringify(v)}. Fix: the name of the Secret (lower-case letters, digits, "-" and ".").`);
  }
  if (oci.insecure === true && oci.caSecret !== undefined) problems.push('field oci: insecure and caSecret together. Fix: plain HTTP needs no CA: keep `insecure: true` for plain HTTP, or `caSecret` for TLS with a private CA.');
  return problems;
}

/**
 * Waves run 1, 2, ... with none empty: wave N is promoted to what wave N-1 runs, so an empty wave
 * would hold the rollout with nothing to wait for. One problem per empty wave, at the first entry
 * of the wave above it.
 */
function waveGaps(list: readonly unknown[], at: (index: number) => string): InventoryProblem[] {
  const waves = list.map((raw) => {
    const w = raw && typeof raw === 'object' ? (raw as { wave?: unknown }).wave : undefined;
    return Number.isInteger(w) && (w as number) >= 1 && (w as number) <= MAX_WAVE ? (w as number) : undefined;
  });
  const last = lastWave(waves.map((w) => (w === undefined ? {} : { wave: w })));
  const used = new Set(waves.map((w) => w ?? last));
  const problems: InventoryProblem[] = [];
  for (let wave = 1; wave < last; wave++) {
    if (used.has(wave)) continue;
    const above = waves.findIndex((w) => w !== undefined && w > wave);
    const name = (list[above] as { name?: string }).name ?? `entry ${above + 1}`;
    problems.push({
      kind: 'wave-gap',
      entry: name,
      message: `${at(above)}: cluster "${name}": field wave: wave ${wave} has no cluster, so the rollout would wait on an empty wave. Fix: number the waves 1, 2, ... without a gap (give a cluster wave ${wave}, or lower the waves above it).`,
    });
  }
  return problems;
}

/** Servers compare without a trailing slash and case-insensitively in the host, as Argo CD matches them. */
function normalise(field: 'name' | 'server', value: string): string {
  if (field === 'name') return value;
  return value.replace(/\/+$/, '').replace(/^https:\/\/([^/]+)/i, (_, host: string) => `https://${host.toLowerCase()}`);
}

function fieldHint(field: (typeof REQUIRED_FIELDS)[number], overlays: readonly string[]): string {
  switch (field) {
    case 'name':
      return 'the cluster\'s name, e.g. eu-west or site-07';
    case 'overlay':
      return `one of ${overlays.join(', ')}`;
    case 'server':
      return 'its API server URL, e.g. https://eu-west.k8s.example.net:6443';
    case 'region':
      return 'where it runs, e.g. eu-west-1';
  }
}

/** `last`: the inventory's last wave (lastWave), which an entry without a wave is in. */
export function toCluster(entry: ClusterEntry, clustersDir: string, last: number): Cluster {
  const dir = path.join(clustersDir, entry.name);
  const repo = path.dirname(clustersDir);
  return { ...entry, dir, path: path.relative(repo, dir).split(path.sep).join('/'), namespace: overlayNamespace(entry.overlay), wave: entry.wave ?? last };
}

export interface ReadOptions {
  /** The repository (default: this one). */
  readonly root?: string;
  /** Problems of these kinds are returned rather than thrown (the report flags duplicate servers). */
  readonly tolerate?: readonly ProblemKind[];
}

/**
 * Reads and checks clusters/inventory.yaml. Any problem (but the tolerated ones) is a UserError,
 * exit 1, listing all of them. A repository without the file has an empty fleet.
 */
export function readInventory(options: ReadOptions = {}): Inventory & { tolerated: InventoryProblem[] } {
  const root = options.root ?? REPO_ROOT;
  const clustersDir = path.join(root, 'clusters');
  const file = path.join(clustersDir, INVENTORY_FILE);
  if (!existsSync(file)) return { file, clusters: [], tolerated: [] };
  const shown = displayPathIn(root, file);
  const lines = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new UserError(`${shown}${line ? `:${line}` : ''}: not valid YAML (${e.message.split('\n')[0]}). Fix the file.`, EXIT_FINDINGS);
  }
  const clustersNode = isMap(doc.contents) ? doc.contents.get('clusters', true) : undefined;
  const lineOf = (index: number) => {
    const item = isSeq(clustersNode) ? (clustersNode.items[index] as Node | undefined) : undefined;
    return item?.range ? lines.linePos(item.range[0]).line : undefined;
  };
  const overlays = listOverlays(path.join(root, 'overlays')).map((o) => o.name);
  const { entries, problems } = checkInventory(doc.toJS() ?? {}, { overlays, file: shown, lineOf });
  const tolerate = new Set(options.tolerate ?? []);
  const fatal = problems.filter((p) => !tolerate.has(p.kind));
  if (fatal.length > 0) {
    throw new UserError(`${shown} has ${fatal.length === 1 ? 'a problem' : `${fatal.length} problems`}:\n${fatal.map((p) => `  ${p.message}`).join('\n')}`, EXIT_FINDINGS);
  }
  const last = lastWave(entries);
  return { file, clusters: entries.map((e) => toCluster(e, clustersDir, last)), tolerated: problems.filter((p) => tolerate.has(p.kind)) };
}

/** displayPath, but relative to `root` when the repository is another one (a test's copy). */
export function displayPathIn(root: string, p: string): string {
  if (root === REPO_ROOT) return displayPath(p);
  const rel = path.relative(root, p);
  return rel && !rel.startsWith('..') ? rel : p;
}
