// Reads the EMQX pod as the kubelet would start it: its container, and its env after envFrom and
// $(VAR) expansion. Tests use it to check the node name EMQX will actually get.
import type { K8sObject } from '../../scripts/lib/validate/types.ts';
import { only } from './render.ts';

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
 * The env the process sees in a pod with this name and namespace and IP: envFrom first, then env in
 * order, each $(VAR) expanded only from variables defined before it (as the kubelet does).
 * Secret values stay symbolic (`<secret:name/key>`).
 */
export function effectiveEnv(objects: readonly K8sObject[], pod: { name: string; namespace: string; ip: string }): Record<string, string> {
  const env: Record<string, string> = { ...configEnv(objects) };
  const fields: Record<string, string> = { 'metadata.name': pod.name, 'metadata.namespace': pod.namespace, 'status.podIP': pod.ip };
  for (const variable of emqxContainer(objects).env ?? []) {
    if (variable.value !== undefined) {
      env[variable.name] = variable.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
    } else if (variable.valueFrom?.fieldRef) {
      env[variable.name] = fields[variable.valueFrom.fieldRef.fieldPath] ?? `<field:${variable.valueFrom.fieldRef.fieldPath}>`;
    } else if (variable.valueFrom?.secretKeyRef) {
      env[variable.name] = `<secret:${variable.valueFrom.secretKeyRef.name}/${variable.valueFrom.secretKeyRef.key}>`;
    }
  }
  return env;
}
