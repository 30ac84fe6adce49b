// Pairs the objects of two renders by group, kind, namespace and name. A generated ConfigMap or
// Secret whose content changed gets a new hash suffix; it is still the same object to a reviewer.
import { idKey, idOf, isHashable, withoutHashSuffix, type ObjectId } from './objects.ts';
import type { K8sObject } from '../model/object.ts';

export interface ObjectPair {
  readonly id: ObjectId;
  readonly base?: K8sObject;
  readonly head?: K8sObject;
  /** The base object's name when it differs from the head's (hash suffix). */
  readonly previousName?: string;
}

function stemKey(id: ObjectId): string | undefined {
  if (!isHashable(id)) return undefined;
  const stem = withoutHashSuffix(id.name);
  return stem === undefined ? undefined : idKey({ ...id, name: stem });
}

function countStems(objects: readonly K8sObject[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const o of objects) {
    const key = stemKey(idOf(o));
    if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Pairs in a stable order (head order, then removed objects in base order). */
export function pairObjects(base: readonly K8sObject[], head: readonly K8sObject[]): ObjectPair[] {
  const baseByKey = new Map(base.map((o) => [idKey(idOf(o)), o]));
  const matched = new Set<K8sObject>();
  const pairs: ObjectPair[] = [];
  const unmatchedHead: K8sObject[] = [];
  for (const h of head) {
    const b = baseByKey.get(idKey(idOf(h)));
    if (b && !matched.has(b)) {
      matched.add(b);
      pairs.push({ id: idOf(h), base: b, head: h });
    } else unmatchedHead.push(h);
  }
  // Hash-suffix pairing only where it cannot be wrong: exactly one object with that stem on each side.
  const baseStems = countStems(base);
  const headStems = countStems(head);
  const unmatchedBaseByStem = new Map<string, K8sObject>();
  for (const b of base) {
    const key = stemKey(idOf(b));
    if (!matched.has(b) && key && baseStems.get(key) === 1) unmatchedBaseByStem.set(key, b);
  }
  for (const h of unmatchedHead) {
    const key = stemKey(idOf(h));
    const b = key && headStems.get(key) === 1 ? unmatchedBaseByStem.get(key) : undefined;
    if (b) {
      matched.add(b);
      pairs.push({ id: idOf(h), base: b, head: h, previousName: b.metadata.name });
    } else pairs.push({ id: idOf(h), head: h });
  }
  for (const b of base) if (!matched.has(b)) pairs.push({ id: idOf(b), base: b });
  return pairs;
}
