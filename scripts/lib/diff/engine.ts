// The diff of one overlay: pure, from two rendered streams to the report's OverlayDiff.
import { findWarnings } from './danger.ts';
import { changedFieldPaths } from './field-paths.ts';
import { isSecret, maskPair, redactSecretNameHashes, secretKeyChanges } from './mask.ts';
import { deepEqual, toCanonicalYaml } from './normalize.ts';
import { describeId, idOf, isHashable, withoutHashSuffix } from './objects.ts';
import { pairObjects } from './pair.ts';
import { pruneSummary, pruneWarning } from './prune.ts';
import type { ObjectChange, OverlayDiff, PruneSummary } from './types.ts';
import { unifiedDiff, wholeText } from './unified.ts';
import type { K8sObject } from '../model/object.ts';

export interface OverlaySides {
  readonly name: string;
  readonly dir: string;
  /** Undefined when the overlay does not exist on that side. */
  readonly base?: readonly K8sObject[];
  readonly head?: readonly K8sObject[];
  /** The target's cluster is in the base inventory and not in the head's. */
  readonly removedFromInventory?: boolean;
}

/**
 * Writes generated ConfigMaps' and Secrets' names with `<hash>` for their hash suffix (`<old hash>`
 * for a name only the base has, `<new hash>` for one only the head has), wherever they occur. Two
 * clusters whose change differs only in those suffixes (their own settings hash differently) then
 * read the same. `undefined` when neither side has such a name.
 */
function hashMasker(base: readonly K8sObject[], head: readonly K8sObject[]): ((text: string) => string) | undefined {
  const hashed = (objects: readonly K8sObject[]) => new Set(objects.filter((o) => isHashable(idOf(o)) && withoutHashSuffix(o.metadata.name) !== undefined).map((o) => o.metadata.name));
  const b = hashed(base);
  const h = hashed(head);
  const names = [...new Set([...b, ...h])].sort((x, y) => y.length - x.length);
  if (names.length === 0) return undefined;
  const token = (name: string) => `${withoutHashSuffix(name)}-${b.has(name) && h.has(name) ? '<hash>' : b.has(name) ? '<old hash>' : '<new hash>'}`;
  const pattern = new RegExp(`(?<![A-Za-z0-9-])(?:${names.map((n) => n.replace(/[.*+?^${}()|[\]\\<>]/g, '\\$&')).join('|')})(?![A-Za-z0-9-])`, 'g');
  return (text) => text.replace(pattern, (name) => token(name));
}

export function diffObjectLists(rawBase: readonly K8sObject[], rawHead: readonly K8sObject[]): ObjectChange[] {
  const { base, head } = redactSecretNameHashes(rawBase, rawHead);
  const mask = hashMasker(base, head);
  const changes: ObjectChange[] = [];
  for (const pair of pairObjects(base, head)) {
    if (pair.base && pair.head && deepEqual(pair.base, pair.head)) continue;
    // Mask first: everything below sees masked Secrets only.
    const masked = maskPair(pair.base, pair.head);
    const secretKeys = isSecret(pair.base) || isSecret(pair.head) ? secretKeyChanges(pair.base, pair.head) : undefined;
    const before = masked.base ? toCanonicalYaml(masked.base) : '';
    const after = masked.head ? toCanonicalYaml(masked.head) : '';
    const change = pair.base && pair.head ? 'changed' : pair.head ? 'added' : 'removed';
    const diff = change === 'changed' ? unifiedDiff(before, after) : change === 'added' ? wholeText(after, '+') : wholeText(before, '-');
    const object = describeId(pair.id);
    const withoutHashes = mask ? { object: mask(object), ...(pair.previousName ? { previousName: mask(pair.previousName) } : {}), diff: mask(diff) } : undefined;
    const differs = withoutHashes && (withoutHashes.object !== object || withoutHashes.diff !== diff || withoutHashes.previousName !== pair.previousName);
    changes.push({
      id: pair.id,
      ...(pair.previousName ? { previousName: pair.previousName } : {}),
      change,
      paths: masked.base && masked.head ? changedFieldPaths(masked.base, masked.head) : [],
      diff,
      ...(secretKeys ? { secretKeys } : {}),
      ...(differs ? { withoutHashes } : {}),
    });
  }
  const order = { removed: 0, changed: 1, added: 2 } as const;
  return changes.sort((a, b) => order[a.change] - order[b.change] || describeId(a.id).localeCompare(describeId(b.id)));
}

export function diffOverlay(sides: OverlaySides): OverlayDiff {
  // Warnings name objects too: they see the redacted names (diffObjectLists redacts on its own).
  const { base, head } = redactSecretNameHashes(sides.base ?? [], sides.head ?? []);
  const changes = diffObjectLists(base, head);
  const status = sides.base === undefined ? 'added' : sides.head === undefined ? 'removed' : changes.length > 0 ? 'changed' : 'unchanged';
  const reasons: Array<PruneSummary['reasons'][number]> = [];
  if (sides.base !== undefined && sides.head === undefined) reasons.push('directory-deleted');
  if (sides.base !== undefined && sides.removedFromInventory) reasons.push('removed-from-inventory');
  const prune = reasons.length > 0 ? pruneSummary(base, reasons) : undefined;
  const warnings = [...(prune ? [pruneWarning(sides.name, sides.dir, prune)] : []), ...findWarnings(sides.name, base, head)];
  return { name: sides.name, dir: sides.dir, status, changes, warnings, failures: [], ...(prune ? { prune } : {}) };
}
