// Types, as the two sources write them, read into one shape: the dump's type strings
// (`OneOf(String("infinity"),Integer(1..+inf))`) and Erlang type expressions (`range(1, 65535)`).
import type { ValueType } from '../model/emqx-catalogue.ts';
import { callArgs, splitTopLevel } from './erlang.ts';

/** A parsed type: the catalogue's value types, plus the structure (structs, maps) the generator walks. */
export type SchemaType =
  | { readonly kind: 'value'; readonly type: ValueType }
  | { readonly kind: 'struct'; readonly name: string; readonly module?: string }
  | { readonly kind: 'map'; readonly key: string; readonly of?: SchemaType }
  | { readonly kind: 'array'; readonly of: SchemaType }
  | { readonly kind: 'union'; readonly of: readonly SchemaType[] };

const value = (type: ValueType): SchemaType => ({ kind: 'value', type });
const ANY = value({ kind: 'any' });

/** The catalogue's ValueType of a schema type (structure reduced to struct/map). */
export function valueTypeOf(t: SchemaType): ValueType {
  switch (t.kind) {
    case 'value':
      return t.type;
    case 'struct':
      return { kind: 'struct' };
    case 'map':
      return { kind: 'map', key: t.key };
    case 'array': {
      const of = valueTypeOf(t.of);
      return of.kind === 'struct' || of.kind === 'any' || of.kind === 'union' ? { kind: 'array' } : { kind: 'array', of };
    }
    case 'union': {
      const members = t.of.map(valueTypeOf);
      if (members.some((m) => m.kind === 'any')) return { kind: 'any' };
      const unique = members.filter((m, i) => members.findIndex((n) => JSON.stringify(n) === JSON.stringify(m)) === i);
      return unique.length === 1 ? unique[0]! : { kind: 'union', of: unique };
    }
  }
}

// ---- the dump's type strings ------------------------------------------------------------------

function bound(text: string): number | undefined {
  const t = text.trim();
  return /^[+-]?inf(inity)?$/.test(t) || t === '' ? undefined : Number(t);
}

/** Reads a dump type string: `Integer(1..+inf)`, `Map($name->Struct(x))`, `Enum(a,b)`. */
export function parseDumpType(text: string): SchemaType {
  const t = text.trim();
  const match = /^([A-Za-z]+)(?:\(([\s\S]*)\))?$/.exec(t);
  if (!match) return ANY;
  const [, head, argText] = match;
  const inner = argText ?? '';
  switch (head) {
    case 'String':
      return argText !== undefined ? value({ kind: 'string', literal: JSON.parse(inner) as string }) : value({ kind: 'string' });
    case 'Secret':
    case 'Atom':
      return value({ kind: head === 'Secret' ? 'any' : 'string' });
    case 'Boolean':
      return value({ kind: 'boolean' });
    case 'Integer': {
      if (argText === undefined) return value({ kind: 'integer' });
      const [min, max] = inner.split('..');
      const lo = bound(min ?? '');
      const hi = bound(max ?? '');
      return value({ kind: 'integer', ...(lo !== undefined ? { min: lo } : {}), ...(hi !== undefined ? { max: hi } : {}) });
    }
    case 'Number':
    case 'Float':
      return value({ kind: 'float' });
    case 'Duration':
      return value({ kind: 'duration' });
    case 'Bytesize':
      return value({ kind: 'bytesize' });
    case 'Percent':
      return value({ kind: 'percent' });
    case 'Enum':
      return value({ kind: 'enum', values: splitDump(inner) });
    case 'Array':
      return { kind: 'array', of: parseDumpType(inner) };
    case 'OneOf':
      return { kind: 'union', of: splitDump(inner).map(parseDumpType) };
    case 'Struct':
      return { kind: 'struct', name: inner };
    case 'Map': {
      if (argText === undefined) return { kind: 'map', key: '$key' };
      const arrow = inner.indexOf('->');
      return { kind: 'map', key: inner.slice(0, arrow).trim(), of: parseDumpType(inner.slice(arrow + 2)) };
    }
    default:
      return ANY;
  }
}

/** Splits the dump's comma lists at the top level (types nest, string literals hold commas). */
function splitDump(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter(Boolean);
}

// ---- Erlang type expressions ------------------------------------------------------------------

const SIMPLE: Record<string, ValueType> = {
  'boolean()': { kind: 'boolean' },
  'string()': { kind: 'string' },
  'binary()': { kind: 'string' },
  'atom()': { kind: 'string' },
  'file()': { kind: 'string' },
  'integer()': { kind: 'integer' },
  'pos_integer()': { kind: 'integer', min: 1 },
  'non_neg_integer()': { kind: 'integer', min: 0 },
  'float()': { kind: 'float' },
  'number()': { kind: 'float' },
  'typerefl:ip4_address()': { kind: 'string' },
};

const SCHEMA_TYPES: Record<string, ValueType> = {
  duration: { kind: 'duration' },
  duration_ms: { kind: 'duration' },
  duration_s: { kind: 'duration' },
  timeout_duration: { kind: 'duration' },
  timeout_duration_ms: { kind: 'duration' },
  timeout_duration_s: { kind: 'duration' },
  bytesize: { kind: 'bytesize' },
  wordsize: { kind: 'bytesize' },
  percent: { kind: 'percent' },
  comma_separated_list: { kind: 'string' },
  comma_separated_atoms: { kind: 'string' },
  comma_separated_binary: { kind: 'string' },
  ip_port: { kind: 'string' },
  host_port: { kind: 'string' },
  url: { kind: 'string' },
  template: { kind: 'string' },
  template_str: { kind: 'string' },
  json_binary: { kind: 'string' },
};

function atomList(text: string): string[] | undefined {
  const m = /^\[([\s\S]*)\]$/.exec(text.trim());
  if (!m) return undefined;
  const items = splitTopLevel(m[1]!).map((s) => s.replace(/^'|'$/g, '').replace(/^<<"|">>$/g, '').replace(/^"|"$/g, ''));
  return items.every((s) => /^[A-Za-z0-9_.-]+$/.test(s)) ? items : undefined;
}

function refOf(args: readonly string[]): SchemaType {
  const clean = (s: string) => s.trim().replace(/^\?MODULE$/, '').replace(/^"|"$/g, '').replace(/^'|'$/g, '');
  if (args.length >= 2) return { kind: 'struct', name: clean(args[1]!), ...(clean(args[0]!) ? { module: clean(args[0]!) } : {}) };
  return { kind: 'struct', name: clean(args[0] ?? '') };
}

/** Reads an Erlang type expression of a field; what it cannot read is `any`. */
export function parseErlType(expr: string): SchemaType {
  const t = expr.trim();
  if (SIMPLE[t]) return value(SIMPLE[t]);
  const schemaType = /^(?:emqx_schema:)?([a-z_]+)\(\)$/.exec(t);
  if (schemaType && SCHEMA_TYPES[schemaType[1]!]) return value(SCHEMA_TYPES[schemaType[1]!]!);
  const call = callArgs(t);
  if (!call) return ANY;
  const { callee, args } = call;
  switch (callee) {
    case 'range':
    case 'typerefl:range': {
      const lo = /^-?\d+$/.test(args[0] ?? '') ? Number(args[0]) : undefined;
      const hi = /^-?\d+$/.test(args[1] ?? '') ? Number(args[1]) : undefined;
      if (args[0] !== 'infinity' && lo === undefined) return value({ kind: 'integer' });
      return value({ kind: 'integer', ...(lo !== undefined ? { min: lo } : {}), ...(hi !== undefined ? { max: hi } : {}) });
    }
    case 'hoconsc:enum':
    case '?ENUM':
    case 'enum': {
      const values = atomList(args[0] ?? '');
      return values ? value({ kind: 'enum', values }) : ANY;
    }
    case 'hoconsc:array':
    case '?ARRAY':
    case 'array':
      return { kind: 'array', of: parseErlType(args[0] ?? '') };
    case 'hoconsc:union':
    case '?UNION':
    case 'union': {
      const list = /^\[([\s\S]*)\]$/.exec((args[0] ?? '').trim());
      return list ? { kind: 'union', of: splitTopLevel(list[1]!).map(parseErlType) } : ANY;
    }
    case 'hoconsc:map':
    case '?MAP':
    case 'map':
      return args.length >= 2 ? { kind: 'map', key: `$${(args[0] ?? 'name').replace(/^"|"$/g, '').replace(/^'|'$/g, '')}`, of: parseErlType(args[1]!) } : ANY;
    case 'ref':
    case 'hoconsc:ref':
    case '?R_REF':
    case '?REF':
    case 'hoconsc:r_ref':
      return refOf(args);
    default:
      return ANY;
  }
}

/** An Erlang literal default as the dump writes defaults: `<<"24h">>` -> `24h`, `manual`, `16`, `true`. */
export function erlDefault(expr: string | undefined): string | undefined {
  if (expr === undefined) return undefined;
  const t = expr.trim();
  const bin = /^<<"((?:[^"\\]|\\.)*)">>$/.exec(t) ?? /^"((?:[^"\\]|\\.)*)"$/.exec(t);
  if (bin) return bin[1]!;
  if (/^-?\d+(\.\d+)?$/.test(t) || /^[a-z][a-z0-9_]*$/.test(t)) return t;
  if (/^'[^']*'$/.test(t)) return t.slice(1, -1);
  return undefined;
}
