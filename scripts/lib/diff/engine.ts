// The diff of one overlay: pure, from two rendered streams to the report's OverlayDiff.
import { findWarnings } from './danger.ts';
import { changedFieldPaths } from './field-paths.ts';
import { isSecret, maskPair, redactSecretNameHashes, secretKeyChanges } from './mask.ts';
import { deepEqual, toCanonicalYaml } from './normalize.ts';
import { describeId } from './objects.ts';
import { pairObjects } from './pair.ts';
import type { ObjectChange, OverlayDiff } from './types.ts';
import { unifiedDiff, wholeText } from './unified.ts';
import type { K8sObject } from '../model/object.ts';

export interface OverlaySides {
  readonly name: string;
  readonly dir: string;
  /** Undefined when the overlay does not exist on that side. */
  readonly base?: readonly K8sObject[];
  readonly head?: readonly K8sObject[];
}

export function diffObjectLists(rawBase: readonly K8sObject[], rawHead: readonly K8sObject[]): ObjectChange[] {
  const { base, head } = redactSecretNameHashes(rawBase, rawHead);
  const changes: ObjectChange[] = [];
  for (const pair of pairObjects(base, head)) {
    if (pair.base && pair.head && deepEqual(pair.base, pair.head)) continue;
    // Mask first: everything below sees masked Secrets only.
    const masked = maskPair(pair.base, pair.head);
    const secretKeys = isSecret(pair.base) || isSecret(pair.head) ? secretKeyChanges(pair.base, pair.head) : undefined;
    const before = masked.base ? toCanonicalYaml(masked.base) : '';
    const after = masked.head ? toCanonicalYaml(masked.head) : '';
    const change = pair.base && pair.head ? 'changed' : pair.head ? 'added' : 'removed';
    changes.push({
      id: pair.id,
      ...(pair.previousName ? { previousName: pair.previousName } : {}),
      change,
      paths: masked.base && masked.head ? changedFieldPaths(masked.base, masked.head) : [],
      diff: change === 'changed' ? unifiedDiff(before, after) : change === 'added' ? wholeText(after, '+') : wholeText(before, '-'),
      ...(secretKeys ? { secretKeys } : {}),
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
  return { name: sides.name, dir: sides.dir, status, changes, warnings: findWarnings(sides.name, base, head), failures: [] };
}
