// The effective EMQX settings of a broker workload, from its container's resolved environment.
import { resolveEnv, type ResolvedEnv, type ResolvedVar } from './env.ts';
import { asString, type K8sObject } from './object.ts';
import { emqxWorkloads, podPath, type EmqxWorkload } from './workloads.ts';

/** `cluster.k8s.address_type` -> `EMQX_CLUSTER__K8S__ADDRESS_TYPE`. */
export function envName(configPath: string): string {
  return `EMQX_${configPath.toUpperCase().replace(/\./g, '__')}`;
}

export interface EmqxSettings {
  readonly workload: EmqxWorkload;
  readonly env: ResolvedEnv;
  get(configPath: string): ResolvedVar | undefined;
  value(configPath: string): string | undefined;
  /** The field path of a variable in the broker container, for findings. */
  fieldPath(variable: ResolvedVar | string): string;
  /** `<name>@<host>`: EMQX_NODE__NAME, else EMQX_NAME (default `emqx`) @ EMQX_HOST. */
  readonly nodeName: string | undefined;
  readonly nodeHost: string | undefined;
  readonly namespace: string | undefined;
}

/**
 * The node name the image's start script gives the broker: `EMQX_NODE__NAME`, else
 * `<EMQX_NAME>@<EMQX_HOST>` (EMQX_NAME defaults to `emqx`); undefined when neither is set.
 */
export function nodeNameFrom(value: (name: string) => string | undefined): string | undefined {
  const host = value('EMQX_HOST');
  return value('EMQX_NODE__NAME') ?? (host !== undefined ? `${value('EMQX_NAME') ?? 'emqx'}@${host}` : undefined);
}

export function emqxSettings(workload: EmqxWorkload, objects: readonly K8sObject[]): EmqxSettings {
  const namespace = workload.object.metadata.namespace;
  const env = resolveEnv(workload.container, objects, namespace);
  const get = (configPath: string) => env.vars.get(envName(configPath));
  const raw = (name: string) => env.vars.get(name)?.value;
  const nodeName = nodeNameFrom(raw);
  const at = nodeName?.indexOf('@') ?? -1;
  return {
    workload,
    env,
    get,
    value: (configPath) => get(configPath)?.value,
    fieldPath: (variable) => {
      const v = typeof variable === 'string' ? env.vars.get(variable) : variable;
      const where = v ? v.path : `env[${variable as string}]`;
      return podPath(workload, `containers[${asString(workload.container.name) ?? '?'}].${where}`);
    },
    nodeName,
    nodeHost: nodeName !== undefined && at >= 0 ? nodeName.slice(at + 1) : undefined,
    namespace,
  };
}

/** A broker workload and its effective settings. */
export type EmqxWorkloadWithSettings = EmqxWorkload & { readonly settings: EmqxSettings };

/** The workloads running the EMQX broker, each with its settings: where every EMQX rule starts. */
export function emqxWorkloadsWithSettings(objects: readonly K8sObject[]): EmqxWorkloadWithSettings[] {
  return emqxWorkloads(objects).map((w) => ({ ...w, settings: emqxSettings(w, objects) }));
}
