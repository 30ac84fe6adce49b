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
}

export type WarningRule = 'immutable-field' | 'emqx-node-name' | 'statefulset-scale-down' | 'emqx-licence' | 'data-removed';

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
  return report.overlays.some((o) => o.status === 'added' || o.status === 'removed' || o.changes.length > 0);
}
