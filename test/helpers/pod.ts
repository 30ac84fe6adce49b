// Reads the EMQX pod as the kubelet would start it: its container, and its env after envFrom and
// $(VAR) expansion. Tests use it to check the node name EMQX will actually get.
import { only } from './render.ts';
import { placeholder, resolveEnv } from '../../scripts/lib/model/env.ts';
import type { Json, K8sObject } from '../../scripts/lib/model/object.ts';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
export interface Container {
  name: string;
  image: string;
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
  [key: string]: unknown;
}
export interface PodSpec {
  containers: Container[];
  volumes?: { name: string; [key: string]: unknown }[];
  [key: string]: unknown;
}

export function workloadOf(objects: readonly K8sObject[]): K8sObject {
  const workloads = objects.filter((o) => (o.kind === 'StatefulSet' || o.kind === 'Deployment') && o.metadata.name === 'emqx');
  if (workloads.length !== 1) throw new Error(`expected one EMQX workload, found ${workloads.map((w) => w.kind).join(', ') || 'none'}`);
  return workloads[0]!;
}

export function podSpecOf(workload: K8sObject): PodSpec {
  return (workload as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
}

export function emqxContainer(objects: readonly K8sObject[]): Container {
  const container = podSpecOf(workloadOf(objects)).containers.find((c) => c.name === 'emqx');
  if (!container) throw new Error('no container named emqx');
  return container;
}

/** The ConfigMap data the container reads through envFrom. */
export function configEnv(objects: readonly K8sObject[]): Record<string, string> {
  const container = emqxContainer(objects);
  const data: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(data, (only(objects, 'ConfigMap', source.configMapRef.name) as unknown as { data: Record<string, string> }).data);
  }
  return data;
}

/**
 * The env the process sees in a pod with this name and IP, as the validate rules resolve it
 * (envFrom, then env in order, $(VAR) expanded only from what is defined above), with the run-time
 * placeholders filled in. Secret values stay symbolic.
 */
export function effectiveEnv(objects: readonly K8sObject[], pod: { name: string; namespace: string; ip: string }): Record<string, string> {
  const workload = workloadOf(objects);
  const container = emqxContainer(objects) as unknown as Json;
  const { vars } = resolveEnv(container, objects, workload.metadata.namespace);
  const runtime: Record<string, string> = { [placeholder('metadata.name')]: pod.name, [placeholder('status.podIP')]: pod.ip, [placeholder('metadata.namespace')]: pod.namespace };
  const fill = (value: string) => Object.entries(runtime).reduce((v, [from, to]) => v.replaceAll(from, to), value);
  return Object.fromEntries([...vars.values()].map((v) => [v.name, fill(v.value)]));
}
