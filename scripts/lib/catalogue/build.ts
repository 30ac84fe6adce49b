// Builds the catalogue of one EMQX version from (1) the schema dump the EMQX build writes and
// emqx/emqx-docs publishes, (2) the Erlang schema modules at the version's tag, for the hidden
// fields the dump leaves out, (3) the same modules at the dump's tag, so that what changed between
// the dump's version and the target (fields added or removed, defaults and types changed) is
// applied, and (4) a reviewed supplement for what no source states in a readable form.
import type { Catalogue, CatalogueEntry, Refusal, ValueType } from '../model/emqx-catalogue.ts';
import type { ErlField, ErlModule } from './erlang.ts';
import { erlDefault, parseDumpType, parseErlType, type SchemaType, valueTypeOf } from './types.ts';

/** One field of the dump: `{text, type, default, aliases, refs: [{hash, fields}]}`. */
export interface DumpField {
  readonly text?: string;
  readonly type?: string;
  readonly default?: string;
  readonly aliases?: readonly string[];
  readonly refs?: readonly DumpStruct[];
  readonly fields?: readonly DumpField[];
}
export interface DumpStruct {
  readonly hash?: string;
  readonly fields?: readonly DumpField[];
}

export interface SupplementEntry {
  readonly path: string;
  readonly type?: ValueType;
  readonly default?: string;
  readonly hidden?: boolean;
  readonly open?: boolean;
  readonly aliasOf?: string;
  readonly refuse?: Refusal;
  readonly keys?: readonly string[];
  /** The source file and line the entry was checked against. */
  readonly checked: string;
}

export interface Supplement {
  readonly entries: readonly SupplementEntry[];
  readonly startScript: ReadonlyArray<{ readonly name: string; readonly what: string; readonly checked: string }>;
  readonly alsoValid: ReadonlyArray<{ readonly name: string; readonly why: string; readonly checked: string }>;
}

export interface BuildInput {
  readonly version: string;
  readonly edition: 'ce';
  readonly dump: DumpField;
  readonly dumpVersion: string;
  /** Schema modules at the target tag and at the dump's tag, by module name. */
  readonly modules: ReadonlyMap<string, ErlModule>;
  readonly dumpModules: ReadonlyMap<string, ErlModule>;
  /** Modules whose roots make up the edition's configuration, at each tag. */
  readonly rootModules: readonly string[];
  readonly dumpRootModules: readonly string[];
  /** `emqx_zone_schema:roots()` at the target tag: the roots a zone overrides. */
  readonly zoneRoots: readonly string[];
  readonly supplement: Supplement;
  readonly generated: Readonly<Record<string, unknown>>;
}

interface Changes {
  notInDump: string[];
  hidden: string[];
  removed: string[];
  defaults: string[];
  types: string[];
}

type MutableEntry = { -readonly [K in keyof CatalogueEntry]: CatalogueEntry[K] };

/** The catalogue being built: every path so far, and what changed since the dump's version. */
interface Draft {
  readonly paths: Map<string, MutableEntry>;
  readonly changes: Changes;
}

/** A struct the dump shows, where, and under which root: the Erlang sources are compared with it. */
interface DumpStructAt {
  readonly path: string;
  readonly name: string;
  readonly root: string;
}

/** What the dump placed, for the steps after it. */
interface DumpPlaced {
  readonly roots: ReadonlySet<string>;
  readonly structs: readonly DumpStructAt[];
}

const structName = (name: string) => name.slice(name.lastIndexOf(':') + 1);
const join = (p: string, child: string) => (p ? `${p}.${child}` : child);

/** The first source to name a path wins. */
function add(draft: Draft, p: string, entry: MutableEntry): void {
  if (!draft.paths.has(p)) draft.paths.set(p, entry);
}

export function buildCatalogue(input: BuildInput): Catalogue {
  const draft: Draft = { paths: new Map(), changes: { notInDump: [], hidden: [], removed: [], defaults: [], types: [] } };
  const dump = placeDump(draft, input.dump);
  placeErlangSources(draft, input, dump);
  placeZones(draft, input.zoneRoots);
  applySupplement(draft, input.supplement);
  return catalogueOf(draft, input);
}

// ---- 1. the dump -------------------------------------------------------------------------------

function placeDump(draft: Draft, dump: DumpField): DumpPlaced {
  const structs: DumpStructAt[] = [];
  const placeField = (p: string, root: string, field: DumpField) => {
    const type = parseDumpType(field.type ?? '');
    const def = dumpDefault(field.default);
    add(draft, p, { type: valueTypeOf(type), ...(def !== undefined ? { default: def } : {}), from: 'dump' });
    const parent = p.slice(0, p.lastIndexOf('.') + 1);
    for (const alias of field.aliases ?? []) add(draft, `${parent}${alias}`, { type: valueTypeOf(type), aliasOf: p, from: 'dump' });
    placeChildren(p, root, type, field.refs ?? []);
  };
  const placeChildren = (p: string, root: string, type: SchemaType, refs: readonly DumpStruct[]) => {
    switch (type.kind) {
      case 'struct': {
        const name = structName(type.name);
        const ref = refs.find((r) => r.hash?.endsWith(`-S-${name}`)) ?? (refs.length === 1 ? refs[0] : undefined);
        if (!ref) {
          draft.paths.get(p)!.open = true;
          return;
        }
        structs.push({ path: p, name, root });
        for (const f of ref.fields ?? []) if (f.text) placeField(join(p, f.text), root, f);
        return;
      }
      case 'map': {
        if (!type.of) {
          draft.paths.get(p)!.open = true;
          return;
        }
        const child = join(p, type.key);
        add(draft, child, { type: valueTypeOf(type.of), from: 'dump' });
        placeChildren(child, root, type.of, refs);
        return;
      }
      case 'array':
        if (hasStruct(type.of)) {
          const child = join(p, '$index');
          add(draft, child, { type: valueTypeOf(type.of), from: 'dump' });
          placeChildren(child, root, type.of, refs);
        }
        return;
      case 'union':
        for (const member of type.of) placeChildren(p, root, member, refs);
        return;
      case 'value':
        return;
    }
  };
  const roots = new Set<string>();
  for (const field of dump.fields ?? []) {
    if (!field.text) continue;
    roots.add(field.text);
    placeField(field.text, field.text, field);
  }
  return { roots, structs };
}

// ---- 2. the Erlang sources ---------------------------------------------------------------------

function placeErlangSources(draft: Draft, input: BuildInput, dump: DumpPlaced): void {
  const { paths, changes } = draft;
  const rootModule = new Map<string, string>();
  for (const m of ['emqx_schema', ...input.rootModules.filter((m) => m !== 'emqx_conf_schema'), 'emqx_conf_schema']) {
    for (const r of input.modules.get(m)?.roots ?? []) rootModule.set(r.name, m);
  }
  const resolve = structResolver(input.modules);
  const placeErl = erlangPlacer(draft, input.modules, resolve);

  // 2a. Roots: those of modules that left the edition since the dump go; hidden and new ones come in.
  const gone = input.dumpRootModules.filter((m) => !input.rootModules.includes(m));
  for (const m of gone) {
    for (const r of input.dumpModules.get(m)?.roots ?? []) {
      if (dump.roots.has(r.name)) removeTree(draft, r.name);
    }
  }
  // 2b. Every struct the dump shows: the fields it leaves out, and what changed since its tag.
  for (const { path: p, name, root } of dump.structs) {
    if (!paths.has(p)) continue;
    const m = resolve(name, rootModule.get(root));
    if (!m) continue;
    const now = input.modules.get(m)!.structs.get(name)!;
    const then = input.dumpModules.get(m)?.structs.get(name);
    const nowNames = new Set(now.fields.map((f) => f.name));
    for (const f of then?.fields ?? []) {
      if (!nowNames.has(f.name) && paths.get(join(p, f.name))?.from === 'dump') removeTree(draft, join(p, f.name));
    }
    for (const f of now.fields) {
      const child = join(p, f.name);
      const before = then?.fields.find((x) => x.name === f.name);
      const existing = paths.get(child);
      if (!existing) {
        placeErl(child, f, m, 0, f.hidden ? 'hidden' : 'added');
        continue;
      }
      if (existing.from !== 'dump' || !before) continue;
      const was = erlDefault(before.defaultExpr);
      const is = erlDefault(f.defaultExpr);
      if (was !== is && is !== undefined) {
        existing.default = is;
        changes.defaults.push(`${child}: ${was ?? '(none)'} -> ${is}`);
      }
      if (before.typeExpr !== f.typeExpr) {
        const type = valueTypeOf(parseErlType(f.typeExpr));
        if (type.kind !== 'any' && type.kind !== 'struct' && JSON.stringify(type) !== JSON.stringify(existing.type)) {
          existing.type = type;
          changes.types.push(child);
        }
      }
    }
  }
  // 2c. Roots the dump does not show (hidden, or new in the edition since the dump).
  for (const m of ['emqx_schema', 'emqx_conf_schema', ...input.rootModules]) {
    for (const r of input.modules.get(m)?.roots ?? []) {
      if (r.name === 'zones' || paths.has(r.name)) continue;
      placeErl(r.name, r, m, 0, r.hidden ? 'hidden' : 'added');
    }
  }
}

type StructResolver = (name: string, preferred: string | undefined) => string | undefined;

/** The module that defines struct `name`: the preferred one if it does, else the only one that does. */
function structResolver(modules: ReadonlyMap<string, ErlModule>): StructResolver {
  const byStruct = new Map<string, string[]>();
  for (const [name, m] of modules) for (const s of m.structs.keys()) byStruct.set(s, [...(byStruct.get(s) ?? []), name]);
  return (name, preferred) => {
    if (preferred && modules.get(preferred)?.structs.has(name)) return preferred;
    const candidates = byStruct.get(name) ?? [];
    return candidates.length === 1 ? candidates[0] : undefined;
  };
}

type ErlPlacer = (p: string, field: ErlField, module: string, depth: number, kind: 'hidden' | 'added') => void;

/** Places a field of the Erlang sources that the dump does not show, and everything below it. */
function erlangPlacer(draft: Draft, modules: ReadonlyMap<string, ErlModule>, resolve: StructResolver): ErlPlacer {
  const { paths, changes } = draft;
  const placeErl: ErlPlacer = (p, field, module, depth, kind) => {
    if (paths.has(p)) return;
    const type = parseErlType(field.typeExpr);
    const value = valueTypeOf(type);
    const def = erlDefault(field.defaultExpr);
    paths.set(p, {
      type: value,
      ...(def !== undefined ? { default: def } : {}),
      ...(field.hidden ? { hidden: true as const } : {}),
      ...(field.deprecated ? { deprecated: true as const } : {}),
      // A type the reader could not make out may be a struct: accept what is below it.
      ...(value.kind === 'any' ? { open: true as const } : {}),
      from: 'erl',
    });
    const why = field.hidden ? 'hidden' : kind;
    (why === 'hidden' ? changes.hidden : changes.notInDump).push(p);
    const parent = p.slice(0, p.lastIndexOf('.') + 1);
    for (const alias of field.aliases) add(draft, `${parent}${alias}`, { type: value, aliasOf: p, from: 'erl' });
    placeChildren(p, type, module, depth, why);
  };
  const placeChildren = (p: string, type: SchemaType, module: string, depth: number, kind: 'hidden' | 'added') => {
    if (depth > 12) {
      paths.get(p)!.open = true;
      return;
    }
    switch (type.kind) {
      case 'struct': {
        const m = type.module && modules.has(type.module) ? type.module : resolve(type.name, module);
        const struct = m ? modules.get(m)!.structs.get(type.name) : undefined;
        if (!struct || struct.fields.length === 0) {
          paths.get(p)!.open = true;
          return;
        }
        for (const f of struct.fields) placeErl(join(p, f.name), f, m!, depth + 1, kind);
        // Fields the reader could not name (built by a comprehension): accept what is below.
        if (struct.partial) paths.get(p)!.open = true;
        return;
      }
      case 'map': {
        const child = join(p, type.key);
        if (!type.of) {
          paths.get(p)!.open = true;
          return;
        }
        add(draft, child, { type: valueTypeOf(type.of), from: 'erl' });
        placeChildren(child, type.of, module, depth + 1, kind);
        return;
      }
      case 'array':
        if (hasStruct(type.of)) {
          const child = join(p, '$index');
          add(draft, child, { type: valueTypeOf(type.of), from: 'erl' });
          placeChildren(child, type.of, module, depth + 1, kind);
        }
        return;
      case 'union':
        for (const member of type.of) placeChildren(p, member, module, depth + 1, kind);
        return;
      case 'value':
        return;
    }
  };
  return placeErl;
}

// ---- 3. zones: each zone overrides the zone roots, without their defaults -----------------------

function placeZones(draft: Draft, zoneRoots: readonly string[]): void {
  const { paths } = draft;
  paths.set('zones', { type: { kind: 'map', key: '$name' }, hidden: true, from: 'zone' });
  paths.set('zones.$name', { type: { kind: 'struct' }, hidden: true, from: 'zone' });
  for (const root of zoneRoots) {
    for (const [p, entry] of [...paths]) {
      if (p !== root && !p.startsWith(`${root}.`)) continue;
      const { default: _default, ...rest } = entry;
      paths.set(`zones.$name.${p}`, { ...rest, ...(entry.aliasOf ? { aliasOf: `zones.$name.${entry.aliasOf}` } : {}), hidden: true, from: 'zone' });
    }
  }
}

// ---- 4. the reviewed supplement ----------------------------------------------------------------

function applySupplement(draft: Draft, supplement: Supplement): void {
  for (const s of supplement.entries) {
    const existing = draft.paths.get(s.path);
    const entry: MutableEntry = existing ?? { type: s.type ?? { kind: 'any' }, from: 'supplement' };
    if (s.type) entry.type = s.type;
    if (s.default !== undefined) entry.default = s.default;
    if (s.hidden) entry.hidden = true;
    if (s.open) entry.open = true;
    if (s.aliasOf) entry.aliasOf = s.aliasOf;
    if (s.refuse) entry.refuse = s.refuse;
    if (s.keys) entry.keys = s.keys;
    draft.paths.set(s.path, entry);
  }
}

// ---- the catalogue: sorted paths under a header that says what changed since the dump ---------

function catalogueOf({ paths, changes }: Draft, input: BuildInput): Catalogue {
  const sorted = Object.fromEntries([...paths].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([p, e]) => [p, ordered(e)]));
  return {
    format: 1,
    emqx: input.version,
    edition: input.edition,
    generated: {
      ...input.generated,
      changesSinceDump: {
        from: input.dumpVersion,
        to: input.version,
        removed: changes.removed.sort(),
        notInDump: changes.notInDump.sort(),
        defaults: changes.defaults.sort(),
        types: changes.types.sort(),
        hiddenFromSources: changes.hidden.length,
      },
    },
    startScript: Object.fromEntries(input.supplement.startScript.map((s) => [s.name, `${s.what} (${s.checked})`])),
    alsoValid: Object.fromEntries(input.supplement.alsoValid.map((s) => [s.name, `${s.why} (${s.checked})`])),
    paths: sorted,
  };
}

/** The dump writes defaults as HOCON text: `"1MB"` (a quoted string), `16`, `[]`. */
function dumpDefault(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (/^"(?:[^"\\]|\\.)*"$/.test(text)) {
    try {
      return JSON.parse(text) as string;
    } catch {
      return text;
    }
  }
  return text;
}

function hasStruct(type: SchemaType): boolean {
  return type.kind === 'struct' || (type.kind === 'union' && type.of.some(hasStruct)) || (type.kind === 'map' && type.of !== undefined && hasStruct(type.of));
}

function removeTree({ paths, changes }: Draft, p: string): void {
  for (const key of [...paths.keys()]) if (key === p || key.startsWith(`${p}.`)) paths.delete(key);
  changes.removed.push(p);
}

/** Keys in one order, so that regenerating gives the same text. */
function ordered(e: MutableEntry): CatalogueEntry {
  return {
    type: e.type,
    ...(e.default !== undefined ? { default: e.default } : {}),
    ...(e.hidden ? { hidden: true } : {}),
    ...(e.deprecated ? { deprecated: true } : {}),
    ...(e.open ? { open: true } : {}),
    ...(e.aliasOf !== undefined ? { aliasOf: e.aliasOf } : {}),
    ...(e.refuse ? { refuse: e.refuse } : {}),
    ...(e.keys ? { keys: e.keys } : {}),
    from: e.from,
  };
}

/** The catalogue as text: a readable header, then one line per path (a version bump diffs line by line). */
export function serializeCatalogue(catalogue: Catalogue): string {
  const { paths, ...header } = catalogue;
  const head = JSON.stringify(header, null, 2).replace(/\n}$/, '');
  const lines = Object.entries(paths).map(([p, e]) => `    ${JSON.stringify(p)}: ${JSON.stringify(e)}`);
  return `${head},\n  "paths": {\n${lines.join(',\n')}\n  }\n}\n`;
}
