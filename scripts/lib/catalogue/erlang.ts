// A careful, regex-and-bracket reader of EMQX's hocon schema modules (`apps/*/src/*_schema.erl`):
// enough of Erlang to find `fields("name") -> [...]` clauses, the field tuples at the top of their
// lists (`{"name", sc(Type, #{...})}`), each field's type expression, importance, default,
// aliases and deprecation, and a module's `roots()`. It does not evaluate Erlang: a type built by a
// function call it does not know becomes `any`, a field list spliced in from a function is not seen.
// The generator only trusts it for what the documentation dump leaves out (hidden fields) and for
// the differences between two tags of the same file, where both sides are read the same way.

export interface ErlField {
  readonly name: string;
  /** 1-based line of the field's tuple in the file. */
  readonly line: number;
  /** The type expression as written (first argument of sc/mk), or the whole expression when there is no such call. */
  readonly typeExpr: string;
  readonly hidden: boolean;
  readonly deprecated: boolean;
  /** The default as written (`<<"24h">>`, `manual`, `16`), when it is a literal. */
  readonly defaultExpr?: string;
  readonly aliases: readonly string[];
}

export interface ErlStruct {
  readonly name: string;
  readonly line: number;
  readonly fields: readonly ErlField[];
}

export interface ErlModule {
  readonly module: string;
  readonly file: string;
  readonly structs: ReadonlyMap<string, ErlStruct>;
  /** `roots()` (all its clauses), as fields. */
  readonly roots: readonly ErlField[];
}

/** Blanks out comments, keeping every other character (and so every line number) in place. */
export function stripComments(source: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += source[i + 1] ?? '';
        i++;
      } else if (c === '"') inString = false;
      continue;
    }
    if (c === '$') {
      // A character literal: `$"`, `$%`, `$\n`.
      out += c + (source[i + 1] ?? '');
      i++;
      if (source[i] === '\\') {
        out += source[i + 1] ?? '';
        i++;
      }
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    if (c === '%') {
      while (i < source.length && source[i] !== '\n') {
        out += ' ';
        i++;
      }
      if (i < source.length) out += '\n';
      continue;
    }
    out += c;
  }
  return out;
}

const OPEN = new Set(['(', '[', '{']);
const CLOSE: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/** The index just after the bracket that closes the one at `start`. */
function matching(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '$') {
      i += text[i + 1] === '\\' ? 2 : 1;
      continue;
    }
    if (c === '"') inString = true;
    else if (OPEN.has(c)) stack.push(c);
    else if (CLOSE[c] !== undefined) {
      stack.pop();
      if (stack.length === 0) return i + 1;
    }
  }
  return text.length;
}

/** Splits at commas that are not inside brackets or strings. */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '$') {
      i += text[i + 1] === '\\' ? 2 : 1;
      continue;
    }
    if (c === '"') inString = true;
    else if (OPEN.has(c)) depth++;
    else if (CLOSE[c] !== undefined) depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last) parts.push(last);
  return parts;
}

/** `sc(T, #{..})` -> the arguments; undefined for anything that is not a call. */
export function callArgs(expr: string): { readonly callee: string; readonly args: string[] } | undefined {
  const match = /^(\??[A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z_][A-Za-z0-9_]*)?)\s*\(/.exec(expr.trim());
  if (!match) return undefined;
  const open = expr.indexOf('(', match.index);
  const end = matching(expr, open);
  return { callee: match[1]!, args: splitTopLevel(expr.slice(open + 1, end - 1)) };
}

const FIELD_CALLS = new Set(['sc', 'mk', 'hoconsc:mk', '?HOCON', 'emqx_schema:sc', 'hocon_schema:field_schema']);

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function mapValue(opts: string, key: string): string | undefined {
  if (!opts.trim().startsWith('#{')) return undefined;
  const inner = opts.trim().slice(2, matching(opts.trim(), 1) - 1);
  for (const part of splitTopLevel(inner)) {
    const match = /^'?([A-Za-z_]+)'?\s*=>\s*([\s\S]*)$/.exec(part);
    if (match && match[1] === key) return match[2]!.trim();
  }
  return undefined;
}

function parseField(name: string, expr: string, line: number): ErlField {
  const call = callArgs(expr);
  let typeExpr = expr.trim();
  let opts = '';
  if (call && FIELD_CALLS.has(call.callee)) {
    typeExpr = call.args[0] ?? '';
    opts = call.args[1] ?? '';
  } else if (call?.callee === 'emqx_schema_secret:mk') {
    typeExpr = 'emqx_schema_secret:mk()';
    opts = call.args[0] ?? '';
  }
  const importance = mapValue(opts, 'importance');
  const deprecated = mapValue(opts, 'deprecated');
  const defaultExpr = mapValue(opts, 'default');
  const aliases = mapValue(opts, 'aliases');
  return {
    name,
    line,
    typeExpr,
    hidden: importance === '?IMPORTANCE_HIDDEN',
    deprecated: deprecated !== undefined && deprecated !== 'false',
    ...(defaultExpr !== undefined ? { defaultExpr } : {}),
    aliases: aliases ? [...aliases.matchAll(/[a-z][a-z0-9_]*/g)].map((m) => m[0]) : [],
  };
}

const FIELD_NAME = /^\{\s*(?:"([A-Za-z0-9_]+)"|'([A-Za-z0-9_]+)'|([a-z][A-Za-z0-9_]*))\s*,/;

/** The field tuples directly inside the lists of a clause body (not the tuples nested in their types or options). */
function fieldsOf(text: string, from: number, to: number): ErlField[] {
  const fields: ErlField[] = [];
  const stack: string[] = [];
  let inString = false;
  for (let i = from; i < to; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '$') {
      i += text[i + 1] === '\\' ? 2 : 1;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c === '{' && stack.length > 0 && stack.every((s) => s === '[')) {
      const end = matching(text, i);
      const tuple = text.slice(i, end);
      const name = FIELD_NAME.exec(tuple);
      if (name) {
        const rest = tuple.slice(name[0].length, -1);
        fields.push(parseField(name[1] ?? name[2] ?? name[3]!, rest, lineAt(text, i)));
      }
      i = end - 1;
      continue;
    }
    if (OPEN.has(c)) stack.push(c);
    else if (CLOSE[c] !== undefined) stack.pop();
  }
  return fields;
}

/** Local functions called at the top of a clause body (outside any bracket): `mqtt_general() ++ mqtt_session()`. */
function splicedCalls(text: string, from: number, to: number): string[] {
  const names: string[] = [];
  let depth = 0;
  let inString = false;
  for (let i = from; i < to; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (OPEN.has(c)) depth++;
    else if (CLOSE[c] !== undefined) depth--;
    else if (depth === 0 && /[a-z]/.test(c) && !/[A-Za-z0-9_:?]/.test(text[i - 1] ?? ' ')) {
      const m = /^([a-z][A-Za-z0-9_]*)\s*\(/.exec(text.slice(i, i + 80));
      if (m && text[i + m[1]!.length] !== ':') names.push(m[1]!);
      if (m) i += m[1]!.length - 1;
    }
  }
  return names;
}

/** Reads one schema module. */
export function parseSchemaModule(file: string, source: string): ErlModule {
  const text = stripComments(source);
  const module = /-module\(\s*([a-z0-9_]+)\s*\)/.exec(text)?.[1] ?? file.replace(/^.*\/|\.erl$/g, '');
  // Top-level forms start in column 0 (erlfmt); a clause runs to the next one.
  const heads = [...text.matchAll(/^([a-z][A-Za-z0-9_]*)\(([^\n]*?)\)\s*(?:when [^\n]*?)?->/gm)];
  const clauses = heads.map((head, index) => {
    const start = head.index! + head[0].length;
    const next = index + 1 < heads.length ? heads[index + 1]!.index! : text.length;
    // An attribute (`-spec`, `-define`) between two functions ends the clause before it.
    const attribute = /^-/m.exec(text.slice(start, next));
    return { name: head[1]!, args: head[2]!, line: lineAt(text, head.index!), start, end: attribute ? start + attribute.index : next };
  });
  const functions = new Map<string, typeof clauses>();
  for (const c of clauses) functions.set(c.name, [...(functions.get(c.name) ?? []), c]);

  // A clause's fields: its own list, and those of the local functions it splices in (`++`).
  const bodyFields = (start: number, end: number, seen: Set<string>): ErlField[] => {
    const own = fieldsOf(text, start, end);
    for (const name of splicedCalls(text, start, end)) {
      if (seen.has(name) || name === 'fields' || !functions.has(name)) continue;
      seen.add(name);
      for (const c of functions.get(name)!) own.push(...bodyFields(c.start, c.end, seen));
    }
    return own;
  };

  const structs = new Map<string, ErlStruct>();
  const roots: ErlField[] = [];
  for (const c of clauses) {
    if (c.name === 'fields') {
      const name = /^\s*(?:"([A-Za-z0-9_]+)"|'([A-Za-z0-9_]+)'|([a-z][A-Za-z0-9_]*))\s*$/.exec(c.args);
      if (!name) continue;
      const structName = name[1] ?? name[2] ?? name[3]!;
      const previous = structs.get(structName);
      const all = [...(previous?.fields ?? []), ...bodyFields(c.start, c.end, new Set())];
      // Clauses chosen by argument (`backend_fields(builtin_local, _)`, `(builtin_raft, _)`) are all
      // spliced in; the first of a name is kept.
      const fields = all.filter((f, i) => all.findIndex((g) => g.name === f.name) === i);
      structs.set(structName, { name: structName, line: previous?.line ?? c.line, fields });
    } else if (c.name === 'roots') {
      roots.push(...fieldsOf(text, c.start, c.end));
      // `roots() -> [a, b]`: bare atoms are roots whose struct has the same name.
      const list = /^\s*\[([a-z0-9_,\s]*)\]/.exec(text.slice(c.start, c.end));
      if (list) for (const atom of list[1]!.split(',').map((x) => x.trim()).filter(Boolean)) roots.push({ name: atom, line: lineAt(text, c.start), typeExpr: `ref("${atom}")`, hidden: false, deprecated: false, aliases: [] });
    }
  }
  return { module, file, structs, roots };
}

/** The modules named in `-define(MERGED_CONFIGS, [...])` for an edition (`{mod, ce}` entries only count for ce). */
export function mergedConfigs(confSchemaSource: string, edition: 'ce' | 'ee'): string[] {
  const text = stripComments(confSchemaSource);
  const at = text.indexOf('-define(MERGED_CONFIGS');
  if (at < 0) return [];
  const open = text.indexOf('[', at);
  const list = text.slice(open + 1, matching(text, open) - 1);
  return splitTopLevel(list).flatMap((item) => {
    const tuple = /^\{\s*([a-z0-9_]+)\s*,\s*(ce|ee)\s*\}$/.exec(item);
    if (tuple) return tuple[2] === edition ? [tuple[1]!] : [];
    return /^[a-z0-9_]+$/.test(item) ? [item] : [];
  });
}
