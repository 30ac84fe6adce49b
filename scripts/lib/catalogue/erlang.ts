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
  /** Fields it builds in a way the reader cannot name (`[{Name, ...} || Name <- ...]`): more may exist. */
  readonly partial: boolean;
  /** Functions of other modules whose fields it splices in (`emqx_gateway_schema:gateway_common_options()`). */
  readonly remote: ReadonlyArray<{ readonly module: string; readonly fn: string }>;
}

/** What a function body contributes to a field list. */
interface BodyFields {
  readonly fields: ErlField[];
  partial: boolean;
  readonly remote: Array<{ module: string; fn: string }>;
}

export interface ErlModule {
  readonly module: string;
  readonly file: string;
  readonly structs: Map<string, ErlStruct>;
  /** The fields each function of the module returns (for other modules' remote splices). */
  readonly functionFields: (fn: string) => BodyFields | undefined;
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

/**
 * Walks Erlang code from `from` to `to`, passing over strings and `$c` character literals, and
 * hands every other character to `visit` with the bracket depth around it (after an opening
 * bracket is counted, before a closing one is). `visit` may return the index to go on from (the
 * last index it consumed), or `'stop'`. Returns where it stopped.
 */
function walkCode(text: string, from: number, to: number, visit: (i: number, c: string, stack: readonly string[]) => number | 'stop' | void): number {
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
    if (c === '"') inString = true;
    else if (OPEN.has(c)) stack.push(c);
    const next = visit(i, c, stack);
    // A closing bracket leaves the stack after its visit; so does an opening one the visit jumped past.
    if (CLOSE[c] !== undefined || (typeof next === 'number' && OPEN.has(c))) stack.pop();
    if (next === 'stop') return i;
    if (typeof next === 'number') i = next;
  }
  return to;
}

/** The index just after the bracket that closes the one at `start`. */
function matching(text: string, start: number): number {
  const at = walkCode(text, start, text.length, (_i, c, stack) => (CLOSE[c] !== undefined && stack.length === 1 ? 'stop' : undefined));
  return at < text.length ? at + 1 : text.length;
}

/** Splits at commas that are not inside brackets or strings. */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  walkCode(text, 0, text.length, (i, c, stack) => {
    if (c === ',' && stack.length === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  });
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
function fieldsOf(text: string, from: number, to: number, onUnnamed: () => void = () => {}): ErlField[] {
  const fields: ErlField[] = [];
  walkCode(text, from, to, (i, c, stack) => {
    // A tuple whose enclosing brackets are all lists: a field, read whole and jumped over.
    if (c !== '{' || stack.length < 2 || !stack.slice(0, -1).every((s) => s === '[')) return undefined;
    const end = matching(text, i);
    const tuple = text.slice(i, end);
    const name = FIELD_NAME.exec(tuple);
    if (name) {
      const rest = tuple.slice(name[0].length, -1);
      fields.push(parseField(name[1] ?? name[2] ?? name[3]!, rest, lineAt(text, i)));
    } else if (/^\{\s*(?:[A-Z_][A-Za-z0-9_]*|\?[A-Z_]+)\s*,/.test(tuple)) onUnnamed();
    return end - 1;
  });
  return fields;
}

/**
 * Functions called where their result becomes part of a field list: at the top of a clause body
 * (`mqtt_general() ++ mqtt_session()`) or as an element of its list (`[enable(true), bind(18083) | common()]`).
 */
function callsIn(text: string, from: number, to: number): Array<{ module?: string; fn: string }> {
  const calls: Array<{ module?: string; fn: string }> = [];
  walkCode(text, from, to, (i, c, stack) => {
    if (OPEN.has(c) || CLOSE[c] !== undefined) return undefined;
    if (!stack.every((x) => x === '[') || !/[a-z]/.test(c) || /[A-Za-z0-9_:?#.]/.test(text[i - 1] ?? ' ')) return undefined;
    const m = /^([a-z][A-Za-z0-9_]*)(?::([a-z][A-Za-z0-9_]*))?\s*\(/.exec(text.slice(i, i + 120));
    if (m) {
      calls.push(m[2] ? { module: m[1]!, fn: m[2] } : { fn: m[1]! });
      return i + m[0].length - 2;
    }
    let end = i;
    while (end + 1 < to && /[A-Za-z0-9_]/.test(text[end + 1]!)) end++;
    return end;
  });
  return calls;
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

  // A clause's fields: its own list, those of the local functions it splices in (`++`) or lists
  // (a function returning one field tuple, `enable(true)`), and the remote ones it names.
  const bodyFields = (start: number, end: number, seen: Set<string>): BodyFields => {
    const out: BodyFields = { fields: [], partial: false, remote: [] };
    const body = text.slice(start, end).trim();
    if (body.startsWith('{')) {
      // The function is one field: `enable(Bool) -> {"enable", ?HOCON(...)}.`
      const tupleEnd = matching(body, 0);
      const name = FIELD_NAME.exec(body.slice(0, tupleEnd));
      if (name) out.fields.push(parseField(name[1] ?? name[2] ?? name[3]!, body.slice(name[0].length, tupleEnd - 1), lineAt(text, start + text.slice(start, end).indexOf('{'))));
      return out;
    }
    out.fields.push(...fieldsOf(text, start, end, () => (out.partial = true)));
    for (const call of callsIn(text, start, end)) {
      if (call.module !== undefined) {
        if (call.module !== 'emqx_schema_hooks' && call.module !== module && call.fn !== 'fields') out.remote.push({ module: call.module, fn: call.fn });
        if (call.module !== module) continue;
      }
      if (seen.has(call.fn) || call.fn === 'fields' || !functions.has(call.fn)) continue;
      seen.add(call.fn);
      for (const c of functions.get(call.fn)!) {
        const inner = bodyFields(c.start, c.end, seen);
        out.fields.push(...inner.fields);
        out.remote.push(...inner.remote);
        out.partial ||= inner.partial;
      }
    }
    return out;
  };
  const dedupe = (fields: ErlField[]) => fields.filter((f, i) => fields.findIndex((g) => g.name === f.name) === i);

  const structs = new Map<string, ErlStruct>();
  const roots: ErlField[] = [];
  for (const c of clauses) {
    if (c.name === 'fields') {
      const name = /^\s*(?:"([A-Za-z0-9_]+)"|'([A-Za-z0-9_]+)'|([a-z][A-Za-z0-9_]*))\s*$/.exec(c.args);
      if (!name) continue;
      const structName = name[1] ?? name[2] ?? name[3]!;
      const previous = structs.get(structName);
      const found = bodyFields(c.start, c.end, new Set());
      // Clauses chosen by argument (`backend_fields(builtin_local, _)`, `(builtin_raft, _)`) are all
      // spliced in; the first of a name is kept.
      structs.set(structName, {
        name: structName,
        line: previous?.line ?? c.line,
        fields: dedupe([...(previous?.fields ?? []), ...found.fields]),
        partial: (previous?.partial ?? false) || found.partial,
        remote: [...(previous?.remote ?? []), ...found.remote],
      });
    } else if (c.name === 'roots') {
      roots.push(...fieldsOf(text, c.start, c.end));
      // `roots() -> [a, b]`: bare atoms are roots whose struct has the same name.
      const list = /^\s*\[([a-z0-9_,\s]*)\]/.exec(text.slice(c.start, c.end));
      if (list) for (const atom of list[1]!.split(',').map((x) => x.trim()).filter(Boolean)) roots.push({ name: atom, line: lineAt(text, c.start), typeExpr: `ref("${atom}")`, hidden: false, deprecated: false, aliases: [] });
    }
  }
  const functionFields = (fn: string): BodyFields | undefined => {
    const found = functions.get(fn);
    if (!found) return undefined;
    const out: BodyFields = { fields: [], partial: false, remote: [] };
    for (const c of found) {
      const inner = bodyFields(c.start, c.end, new Set([fn]));
      out.fields.push(...inner.fields);
      out.remote.push(...inner.remote);
      out.partial ||= inner.partial;
    }
    return { ...out, fields: dedupe(out.fields) };
  };
  return { module, file, structs, roots, functionFields };
}

/**
 * Adds to each struct the fields of the other modules' functions it splices in
 * (`emqx_gateway_schema:gateway_common_options()`), now that every module is read.
 */
export function resolveRemoteFields(modules: ReadonlyMap<string, ErlModule>): void {
  for (const m of modules.values()) {
    for (const [name, struct] of m.structs) {
      if (struct.remote.length === 0) continue;
      const fields = [...struct.fields];
      let partial = struct.partial;
      const queue = [...struct.remote];
      const seen = new Set<string>();
      while (queue.length > 0) {
        const call = queue.shift()!;
        const key = `${call.module}:${call.fn}`;
        if (seen.has(key) || seen.size > 20) continue;
        seen.add(key);
        const target = modules.get(call.module)?.functionFields(call.fn);
        if (!target) continue;
        fields.push(...target.fields);
        queue.push(...target.remote);
        partial ||= target.partial;
      }
      m.structs.set(name, { ...struct, fields: fields.filter((f, i) => fields.findIndex((g) => g.name === f.name) === i), partial });
    }
  }
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
