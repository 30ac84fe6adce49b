// Secret values never leave this module: every diff, summary and format works on masked copies.
// What a reviewer may learn is which keys were added, removed or changed; nothing derived from a
// value (not its length, not a hash, not its base64) reaches the output.
import { withoutHashSuffix } from './objects.ts';
import type { K8sObject } from '../model/object.ts';
import { MASK } from '../model/secret-values.ts';

export { MASK };
export const MASK_OLD = '<masked: old value>';
export const MASK_NEW = '<masked: new value>';

const VALUE_FIELDS = ['data', 'stringData'] as const;
/** kubectl apply copies the whole object, values included, into this annotation. */
const VALUE_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

export type SecretKeyChange = { readonly key: string; readonly field: 'data' | 'stringData'; readonly change: 'added' | 'removed' | 'changed' };

export function isSecret(object: K8sObject | undefined): boolean {
  return object?.kind === 'Secret';
}

function valuesOf(object: K8sObject | undefined, field: string): Record<string, unknown> {
  const values = object?.[field];
  return values !== null && typeof values === 'object' && !Array.isArray(values) ? (values as Record<string, unknown>) : {};
}

/** Keys added, removed or changed between two versions of a Secret (either may be absent). */
export function secretKeyChanges(base: K8sObject | undefined, head: K8sObject | undefined): SecretKeyChange[] {
  const changes: SecretKeyChange[] = [];
  for (const field of VALUE_FIELDS) {
    const before = valuesOf(base, field);
    const after = valuesOf(head, field);
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      if (!Object.hasOwn(after, key)) changes.push({ key, field, change: 'removed' });
      else if (!Object.hasOwn(before, key)) changes.push({ key, field, change: 'added' });
      else if (before[key] !== after[key]) changes.push({ key, field, change: 'changed' });
    }
  }
  return changes;
}

function maskOne(object: K8sObject, other: K8sObject | undefined, side: 'base' | 'head'): K8sObject {
  const masked: Record<string, unknown> = { ...object };
  for (const field of VALUE_FIELDS) {
    if (!(field in object)) continue;
    const own = valuesOf(object, field);
    const theirs = valuesOf(other, field);
    const out: Record<string, string> = {};
    for (const key of Object.keys(own)) {
      // A changed value must still show as a changed line in the diff, without showing either value.
      const changed = other !== undefined && Object.hasOwn(theirs, key) && theirs[key] !== own[key];
      out[key] = changed ? (side === 'base' ? MASK_OLD : MASK_NEW) : MASK;
    }
    masked[field] = out;
  }
  const annotations = object.metadata?.annotations;
  if (annotations && VALUE_ANNOTATIONS.some((a) => a in annotations)) {
    const safe: Record<string, string> = { ...annotations };
    for (const a of VALUE_ANNOTATIONS) if (a in safe) safe[a] = MASK;
    masked.metadata = { ...object.metadata, annotations: safe };
  }
  return masked as K8sObject;
}

/** Masked copies of both sides of a pair; objects that are not Secrets pass through unchanged. */
export function maskPair(base: K8sObject | undefined, head: K8sObject | undefined): { base: K8sObject | undefined; head: K8sObject | undefined } {
  if (!isSecret(base) && !isSecret(head)) return { base, head };
  return {
    base: base && isSecret(base) ? maskOne(base, isSecret(head) ? head : undefined, 'base') : base,
    head: head && isSecret(head) ? maskOne(head, isSecret(base) ? base : undefined, 'head') : head,
  };
}

/**
 * A generated Secret's name ends in a hash of its content (`emqx-secrets-7g5k2m9t4c`): showing it
 * would show a hash of the values. Every occurrence of such a name, in the Secret and in whatever
 * refers to it, becomes `<stem>-<hash>` when both sides have the same name, else `<stem>-<old hash>`
 * on the base side and `<stem>-<new hash>` on the head side, so that a reviewer still sees that the
 * referring pods roll, and nothing of the value.
 */
export function redactSecretNameHashes(base: readonly K8sObject[], head: readonly K8sObject[]): { base: K8sObject[]; head: K8sObject[] } {
  const hashedSecretNames = (objects: readonly K8sObject[]) =>
    new Set(objects.filter((o) => isSecret(o) && withoutHashSuffix(o.metadata.name) !== undefined).map((o) => o.metadata.name));
  const baseNames = hashedSecretNames(base);
  const headNames = hashedSecretNames(head);
  const redact = (objects: readonly K8sObject[], own: Set<string>, other: Set<string>, token: string): K8sObject[] => {
    if (own.size === 0) return [...objects];
    const replacements = new Map([...own].map((name) => [name, `${withoutHashSuffix(name)}-${other.has(name) ? '<hash>' : token}`]));
    return objects.map((o) => replaceStrings(o, replacements) as K8sObject);
  };
  return { base: redact(base, baseNames, headNames, '<old hash>'), head: redact(head, headNames, baseNames, '<new hash>') };
}

function replaceStrings(value: unknown, replacements: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return replacements.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => replaceStrings(v, replacements));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceStrings(v, replacements)]));
  }
  return value;
}
