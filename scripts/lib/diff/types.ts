// The diff report: what the formats print and `--format json` emits. Built from masked objects only.
import type { SecretKeyChange } from './mask.ts';
import type { ObjectId } from './objects.ts';

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface ObjectChange {
  readonly id: ObjectId;
  /** Set when a generated ConfigMap/Secret was paired across a new hash suffix. */
  readonly previousName?: string;
  readonly change: ChangeKind;
  /** Changed field paths (`spec.template.spec.containers[emqx].image`); empty for added/removed. */
  readonly paths: readonly string[];
  /** Unified diff of the canonical YAML, computed on masked objects. */
  readonly diff: string;
  /** For Secrets: which keys were added, removed or changed. Never a value. */
  readonly secretKeys?: readonly SecretKeyChange[];
  /**
   * The change as it reads with every generated ConfigMap's or Secret's hash suffix written
   * `<hash>` (`<old hash>`, `<new hash>` where it changed), in the object's name, `previousName`
   * and the diff: the same for every cluster whose change differs only in those suffixes, which
   * is how the same change across a fleet is found (see group.ts). Set only where it differs.
   */
  readonly withoutHashes?: { readonly object: string; readonly previousName?: string; readonly diff: string };
}

export type WarningRule = 'immutable-field' | 'emqx-node-name' | 'statefulset-scale-down' | 'emqx-licence' | 'data-removed' | 'server-rejected' | 'target-removed' | 'emqx-config-unknown' | 'emqx-config-default';

export interface DiffWarning {
  readonly overlay: string;
  readonly rule: WarningRule;
  /** `StatefulSet emqx-x/emqx`. */
  readonly object: string;
  /** What goes wrong on sync, in a sentence or two. */
  readonly message: string;
  /** The way through. */
  readonly remedy: string;
}

export type OverlayStatus = 'changed' | 'unchanged' | 'added' | 'removed' | 'failed';

export interface OverlayDiff {
  readonly name: string;
  /** Repository-relative directory. */
  readonly dir: string;
  readonly status: OverlayStatus;
  /** True when nothing the overlay reads changed, so neither side was rendered. */
  readonly notRendered?: boolean;
  readonly changes: readonly ObjectChange[];
  readonly warnings: readonly DiffWarning[];
  /** Render failures, per side. */
  readonly failures: ReadonlyArray<{ readonly side: 'base' | 'head'; readonly message: string }>;
  /** Set when the target goes away (its directory deleted, or its cluster removed from the inventory): what the controller prunes. */
  readonly prune?: PruneSummary;
  /** A fleet cluster's wave (clusters/inventory.yaml, the head's; the base's for a cluster leaving it). */
  readonly wave?: number;
}

/** What a controller deletes on a cluster when the directory it syncs goes away, and what survives. */
export interface PruneSummary {
  /** Why the target goes away. */
  readonly reasons: ReadonlyArray<'directory-deleted' | 'removed-from-inventory'>;
  /** Every object of the base render that the controller deletes, by kind (natural order). */
  readonly deleted: ReadonlyArray<{ readonly kind: string; readonly names: readonly string[] }>;
  /** Objects of the base render the manifests keep through it (Argo CD `Delete=false`, or `Prune=false` while the Application stays; Flux `prune: disabled`). */
  readonly kept: readonly string[];
  /** Objects with Argo CD `Prune=false` only, which does not keep them when their Application is deleted. */
  readonly pruneFalseOnly?: readonly string[];
  /** Whether the broker, its claims and its Secret survive, each with the reason. */
  readonly workload: { readonly survives: boolean; readonly why: string };
  readonly claims: { readonly survives: boolean; readonly why: string };
  readonly secret: { readonly survives: boolean; readonly why: string };
}

export interface DiffReport {
  readonly base: { readonly ref: string; readonly commit: string };
  readonly head: { readonly ref: string; readonly commit?: string };
  readonly overlays: readonly OverlayDiff[];
}

export function countChanges(overlay: OverlayDiff): Record<ChangeKind, number> {
  const counts = { added: 0, removed: 0, changed: 0 };
  for (const c of overlay.changes) counts[c.change]++;
  return counts;
}

export function hasChanges(report: DiffReport): boolean {
  // A cluster leaving the inventory changes what its controller does, even if its render does not.
  return report.overlays.some((o) => o.status === 'added' || o.status === 'removed' || o.changes.length > 0 || o.prune !== undefined);
}
