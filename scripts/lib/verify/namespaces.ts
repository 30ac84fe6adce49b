// The labels each overlay's namespace gets on a real cluster, read from the GitOps manifests that
// create it: Flux renders a Namespace object per overlay; Argo CD creates the namespace
// (CreateNamespace=true) with its ApplicationSet's managedNamespaceMetadata. verify creates the
// namespace with the same labels, so Pod Security admission enforces what it will enforce there.
import { asRecord, stringMap, type K8sObject } from '../model/object.ts';

export const POD_SECURITY_ENFORCE = 'pod-security.kubernetes.io/enforce';

export interface NamespaceLabels {
  /** Labels for the namespace `name`: Argo CD's managed metadata, then Flux's Namespace object on top. */
  labelsFor(name: string): Record<string, string>;
}

/**
 * From the rendered GitOps folders. A namespace neither gives labels to still gets Pod Security
 * `restricted` enforced: the kit promises every overlay runs under it, and a test overlay in its own
 * namespace must be held to the same.
 */
export function namespaceLabels(gitopsObjects: readonly K8sObject[]): NamespaceLabels {
  const managed: Record<string, string> = {};
  const perNamespace = new Map<string, Record<string, string>>();
  for (const o of gitopsObjects) {
    if (o.kind === 'Namespace' && o.apiVersion === 'v1') perNamespace.set(o.metadata.name, stringMap(o.metadata.labels));
    if (o.kind === 'ApplicationSet' || o.kind === 'Application') {
      const spec = asRecord(o.spec);
      const syncPolicy = asRecord(o.kind === 'ApplicationSet' ? asRecord(asRecord(spec.template).spec).syncPolicy : spec.syncPolicy);
      Object.assign(managed, stringMap(asRecord(syncPolicy.managedNamespaceMetadata).labels));
    }
  }
  return {
    labelsFor: (name) => ({ [POD_SECURITY_ENFORCE]: 'restricted', ...managed, ...(perNamespace.get(name) ?? {}) }),
  };
}
