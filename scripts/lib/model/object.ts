// The shared model of what was rendered: a Kubernetes object and small readers over it. They
// never throw on odd input: a field of the wrong type reads as absent (the schema check reports the
// type itself). Everything above (validate, diff, verify, the fleet report) reads objects through here.

/** A Kubernetes object as parsed from a rendered stream. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly [key: string]: unknown;
  };
  readonly [key: string]: unknown;
}

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown): Json {
  return isRecord(value) ? value : {};
}

export function asArray(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(asRecord(value))) if (typeof v === 'string') out[k] = v;
  return out;
}

/** A label selector (matchLabels + matchExpressions, or a Service's plain map) against labels. */
export function selectorMatches(selector: unknown, labels: Readonly<Record<string, string>>, plainMap = false): boolean {
  const sel = asRecord(selector);
  const matchLabels = plainMap ? stringMap(sel) : stringMap(sel.matchLabels);
  for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
  if (plainMap) return true;
  for (const expr of asArray(sel.matchExpressions)) {
    const key = asString(expr.key) ?? '';
    const values = Array.isArray(expr.values) ? expr.values.map(String) : [];
    const has = Object.hasOwn(labels, key);
    switch (expr.operator) {
      case 'In':
        if (!has || !values.includes(labels[key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function isEmptySelector(selector: unknown, plainMap = false): boolean {
  const sel = asRecord(selector);
  if (plainMap) return Object.keys(sel).length === 0;
  return Object.keys(asRecord(sel.matchLabels)).length === 0 && asArray(sel.matchExpressions).length === 0;
}

export function sameNamespace(a: K8sObject, b: K8sObject): boolean {
  return (a.metadata.namespace ?? '') === (b.metadata.namespace ?? '');
}

export function findObject(objects: readonly K8sObject[], kind: string, name: string, namespace: string | undefined): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name && (o.metadata.namespace ?? '') === (namespace ?? ''));
}
