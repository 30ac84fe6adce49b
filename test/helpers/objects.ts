// Kubernetes objects for tests that write a render by hand: the EMQX StatefulSet and the ConfigMap
// its container reads, in every shape the diff tests need.
import type { K8sObject } from '../../scripts/lib/model/object.ts';

export function configMap(name: string, data: Record<string, string>, namespace: string): K8sObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}

export type EnvFromSource = { readonly configMapRef: { readonly name: string } } | { readonly secretRef: { readonly name: string } };

export interface StatefulSetOptions {
  readonly namespace: string;
  /** Default 1. */
  readonly replicas?: number;
  /** Default `emqx/emqx:5.8.9`. */
  readonly image?: string;
  /** Default `emqx-headless`. */
  readonly serviceName?: string;
  /** What the broker container reads through envFrom. */
  readonly envFrom: readonly EnvFromSource[];
  /** The container's env; none when left out. */
  readonly env?: ReadonlyArray<Record<string, unknown>>;
  /** More fields of the broker container (`resources`). */
  readonly container?: Record<string, unknown>;
  /** More fields of the spec (`podManagementPolicy`, `volumeClaimTemplates`). */
  readonly spec?: Record<string, unknown>;
}

/** The StatefulSet `emqx`: pods labelled `app: emqx`, one container `emqx`. */
export function emqxStatefulSet(options: StatefulSetOptions): K8sObject {
  const container = { name: 'emqx', image: options.image ?? 'emqx/emqx:5.8.9', envFrom: options.envFrom, ...(options.env ? { env: options.env } : {}), ...options.container };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'emqx', namespace: options.namespace },
    spec: {
      replicas: options.replicas ?? 1,
      serviceName: options.serviceName ?? 'emqx-headless',
      selector: { matchLabels: { app: 'emqx' } },
      template: { metadata: { labels: { app: 'emqx' } }, spec: { containers: [container] } },
      ...options.spec,
    },
  };
}
