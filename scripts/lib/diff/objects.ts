import type { K8sObject } from '../model/object.ts';
// Names objects the way the API server does: by group, kind, namespace and name.

export interface ObjectId {
  /** API group, '' for the core group (`v1`). The version is not part of the identity: a v1beta1 -> v1 move is a change. */
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

export function idOf(object: K8sObject): ObjectId {
  return {
    group: groupOf(String(object.apiVersion ?? '')),
    kind: String(object.kind ?? ''),
    namespace: String(object.metadata?.namespace ?? ''),
    name: String(object.metadata?.name ?? ''),
  };
}

export function idKey(id: ObjectId): string {
  return `${id.group}|${id.kind}|${id.namespace}|${id.name}`;
}

/** `StatefulSet emqx-ns/emqx`, `ClusterRole x`: what a reviewer reads. */
export function describeId(id: ObjectId): string {
  const kind = id.group && !id.group.endsWith('.k8s.io') && !['apps', 'batch', 'policy', 'autoscaling'].includes(id.group) ? `${id.kind}.${id.group}` : id.kind;
  return id.namespace ? `${kind} ${id.namespace}/${id.name}` : `${kind} ${id.name}`;
}

/**
 * Kustomize appends `-` and a 10-character hash (letters from its own alphabet, digits) to generated
 * ConfigMaps and Secrets. Only those kinds carry one, so only they are stripped. A Secret's suffix
 * has already been replaced by `<hash>`, `<old hash>` or `<new hash>` (see redactSecretNameHashes).
 */
const HASH_SUFFIX = /-(?:[a-z0-9]{10}|<(?:old |new )?hash>)$/;

export function isHashable(id: ObjectId): boolean {
  return id.group === '' && (id.kind === 'ConfigMap' || id.kind === 'Secret');
}

export function withoutHashSuffix(name: string): string | undefined {
  return HASH_SUFFIX.test(name) ? name.replace(HASH_SUFFIX, '') : undefined;
}
