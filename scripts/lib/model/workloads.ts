// The workloads in a render, their pod templates and the EMQX broker's container.
import { asArray, asRecord, asString, isEmptySelector, sameNamespace, selectorMatches, stringMap, type Json, type K8sObject } from './object.ts';

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

/** Services whose selector picks this workload's pods. */
export function servicesSelecting(objects: readonly K8sObject[], w: Workload): K8sObject[] {
  return objects.filter((o) => {
    if (o.kind !== 'Service' || !sameNamespace(o, w.object)) return false;
    const selector = asRecord(o.spec).selector;
    return !isEmptySelector(selector, true) && selectorMatches(selector, w.labels, true);
  });
}
