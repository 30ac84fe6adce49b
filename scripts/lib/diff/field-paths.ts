// Turns JSON patch operations into the field paths a Kubernetes reader knows:
// `/spec/template/spec/containers/0/env/3/value` -> `spec.template.spec.containers[emqx].env[EMQX_HOST].value`.
import jsonpatch from 'fast-json-patch';

function unescape(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function readablePath(pointer: string, base: unknown, head: unknown): string {
  const segments = pointer.split('/').slice(1).map(unescape);
  let out = '';
  let a: unknown = base;
  let b: unknown = head;
  for (const segment of segments) {
    const list = Array.isArray(a) ? a : Array.isArray(b) ? b : undefined;
    if (list && /^\d+$/.test(segment)) {
      const index = Number(segment);
      // Lists of named items (containers, env, ports, volumes) read better by name than by index.
      const item = (Array.isArray(a) ? a[index] : undefined) ?? (Array.isArray(b) ? b[index] : undefined);
      // volumeClaimTemplates name their items in metadata.name.
      const named = item !== null && typeof item === 'object' ? (item as { name?: unknown; metadata?: { name?: unknown } }) : undefined;
      const name = named?.name ?? named?.metadata?.name;
      out += typeof name === 'string' ? `[${name}]` : `[${index}]`;
    } else {
      out += out === '' ? segment : /^[A-Za-z0-9_-]+$/.test(segment) ? `.${segment}` : `["${segment}"]`;
    }
    a = a !== null && typeof a === 'object' ? (a as Record<string, unknown>)[segment] : undefined;
    b = b !== null && typeof b === 'object' ? (b as Record<string, unknown>)[segment] : undefined;
  }
  return out;
}

/** The distinct changed field paths between two (already masked) objects, in patch order. */
export function changedFieldPaths(base: object, head: object): string[] {
  const operations = jsonpatch.compare(base, head);
  return [...new Set(operations.map((op) => readablePath(op.path, base, head)))];
}
