// The Kubernetes objects of a rendered stream, as kustomize prints it.
import { parseAllDocuments } from 'yaml';
import type { K8sObject } from './object.ts';

/**
 * The objects of a rendered stream, in order; empty documents are skipped. kustomize only prints
 * valid YAML, so anything else throws (a bug, not a user error).
 */
export function parseObjects(yaml: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(yaml)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const value = doc.toJS({ maxAliasCount: -1 }) as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error('a document in the rendered stream is not a Kubernetes object');
    objects.push(value as K8sObject);
  }
  return objects;
}

/** The number of Kubernetes objects in a rendered stream. */
export function countObjects(yaml: string): number {
  return parseObjects(yaml).length;
}
