// Small readers over rendered Kubernetes objects, shared by the rules. They never throw on odd
// input: a field of the wrong type reads as absent (the schema check reports the type itself).
import type { K8sObject } from './types.ts';

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

/** A pod template and where it sits in its workload. */
export interface Workload {
  readonly object: K8sObject;
  /** `spec.template`, or `spec.jobTemplate.spec.template`, or `` for a bare Pod. */
  readonly templatePath: string;
  readonly labels: Record<string, string>;
  readonly podSpec: Json;
  readonly replicas: number;
}

const TEMPLATED_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job']);

export function workloadOf(object: K8sObject): Workload | undefined {
  const spec = asRecord(object.spec);
  if (TEMPLATED_KINDS.has(object.kind)) {
    const template = asRecord(spec.template);
    const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
    return { object, templatePath: 'spec.template', labels: stringMap(asRecord(template.metadata).labels), podSpec: asRecord(template.spec), replicas };
  }
  if (object.kind === 'CronJob') {
    const template = asRecord(asRecord(asRecord(spec.jobTemplate).spec).template);
    return { object, templatePath: 'spec.jobTemplate.spec.template', labels: stringMap(asRecord(template.metadata).labels), podSpec: asRecord(template.spec), replicas: 1 };
  }
  if (object.kind === 'Pod') return { object, templatePath: '', labels: stringMap(object.metadata.labels), podSpec: spec, replicas: 1 };
  return undefined;
}

export function workloads(objects: readonly K8sObject[]): Workload[] {
  return objects.map(workloadOf).filter((w): w is Workload => w !== undefined);
}

/** `spec.template.spec` + suffix, or `spec` + suffix for a bare Pod. */
export function podPath(w: Workload, suffix: string): string {
  const base = w.templatePath ? `${w.templatePath}.spec` : 'spec';
  return suffix ? `${base}.${suffix}` : base;
}

export function containersOf(w: Workload): Array<{ container: Json; field: 'containers' | 'initContainers'; name: string }> {
  return (['initContainers', 'containers'] as const).flatMap((field) =>
    asArray(w.podSpec[field]).map((container) => ({ container, field, name: asString(container.name) ?? '?' })),
  );
}

/** The official image and the enterprise one; any registry prefix. */
const EMQX_IMAGE = /(^|\/)emqx\/emqx(-enterprise)?(:|@|$)/;

export function isEmqxContainer(container: Json): boolean {
  return EMQX_IMAGE.test(asString(container.image) ?? '');
}

export interface EmqxWorkload extends Workload {
  readonly container: Json;
  readonly containerName: string;
}

/** Workloads running the EMQX broker, with the broker's container. */
export function emqxWorkloads(objects: readonly K8sObject[]): EmqxWorkload[] {
  return workloads(objects).flatMap((w) => {
    const container = asArray(w.podSpec.containers).find(isEmqxContainer);
    return container ? [{ ...w, container, containerName: asString(container.name) ?? '?' }] : [];
  });
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

/** Services whose selector picks this workload's pods. */
export function servicesSelecting(objects: readonly K8sObject[], w: Workload): K8sObject[] {
  return objects.filter((o) => {
    if (o.kind !== 'Service' || !sameNamespace(o, w.object)) return false;
    const selector = asRecord(o.spec).selector;
    return !isEmptySelector(selector, true) && selectorMatches(selector, w.labels, true);
  });
}
