// The fleet view of a report: the same object change (or warning) in many targets is one entry
// with the list of targets it applies to; what only one target has stays with that target. Two
// changes are the same when the lines their canonical diffs add and remove (Secrets masked,
// generated names' hash suffixes written `<hash>`) are the same, with the same kind of change to
// the same object id and the same field paths; the unchanged lines around them may differ.
import { naturalCompare } from '../util/natural-sort.ts';
import { describeId } from './objects.ts';
import type { DiffReport, DiffWarning, ObjectChange, OverlayDiff } from './types.ts';

/** What a set of targets is called in sentences: all under clusters/ are clusters, all under overlays/ overlays. */
export function targetNoun(targets: readonly Pick<OverlayDiff, 'dir'>[]): 'clusters' | 'overlays' | 'targets' {
  if (targets.length > 0 && targets.every((t) => t.dir.startsWith('clusters/'))) return 'clusters';
  if (targets.length > 0 && targets.every((t) => t.dir.startsWith('overlays/'))) return 'overlays';
  return 'targets';
}

/** How a change reads with hash suffixes masked: what the group shows. */
export function sharedView(change: ObjectChange): { object: string; previousName?: string; diff: string } {
  return change.withoutHashes ?? { object: describeId(change.id), ...(change.previousName ? { previousName: change.previousName } : {}), diff: change.diff };
}

/**
 * What a change does, without where it sits: the added and removed lines, hunk by hunk. Two
 * clusters whose objects have other fields around the change (their own settings) number and
 * surround the same change differently; it is still the same change.
 */
function changedLines(diff: string): string {
  return diff
    .split('\n')
    .filter((line) => line.startsWith('+') || line.startsWith('-') || line.startsWith('@@'))
    .map((line) => (line.startsWith('@@') ? '@@' : line))
    .join('\n');
}

function changeKey(change: ObjectChange): string {
  const view = sharedView(change);
  return JSON.stringify([change.change, view.object, view.previousName ?? '', change.paths, change.secretKeys ?? [], changedLines(view.diff)]);
}

function warningKey(w: DiffWarning): string {
  return JSON.stringify([w.rule, w.object, w.message, w.remedy]);
}

export interface ChangeGroup {
  /** The targets that have exactly these changes in common, in natural order. */
  readonly targets: readonly string[];
  /** The changes (as the first target has them; show them through sharedView). */
  readonly changes: readonly ObjectChange[];
  /** The changes whose unchanged context lines (or line numbers) differ between the targets: shown as the first target has them. */
  readonly contextVaries: ReadonlySet<ObjectChange>;
}

export interface WarningGroup {
  readonly targets: readonly string[];
  readonly warning: DiffWarning;
}

export interface FleetView {
  readonly noun: 'clusters' | 'overlays' | 'targets';
  /** Every target of the report, in natural order. */
  readonly targets: readonly OverlayDiff[];
  /** Targets that change (added, removed, changed or failed to render), in natural order. */
  readonly changing: readonly string[];
  /** Changes that two or more targets share, grouped by the exact set of targets; largest first. */
  readonly shared: readonly ChangeGroup[];
  /** Per target, the changes no other target has. */
  readonly own: ReadonlyMap<string, readonly ObjectChange[]>;
  /** Every warning once, with the targets it applies to; most targets first. */
  readonly warnings: readonly WarningGroup[];
  /** The fleet's waves in rollout order, when its clusters are in two or more: which clusters of each change. */
  readonly waves: readonly WaveView[];
}

export interface WaveView {
  readonly wave: number;
  /** Every target of the wave, in natural order. */
  readonly targets: readonly string[];
  /** The targets of the wave that change. */
  readonly changing: readonly string[];
}

/**
 * Which waves a change reaches, first one first, as a sentence: `reaches wave 1 first (store-0012),
 * then wave 2 (11 of 11 clusters)`. When the first wave is left out, the canary sees nothing
 * before the later waves do, and the sentence says so. Undefined when no cluster with a wave changes.
 */
export function rolloutSentence(view: FleetView): string | undefined {
  const reached = view.waves.filter((w) => w.changing.length > 0);
  if (reached.length === 0) return undefined;
  const part = (w: WaveView) => `wave ${w.wave} (${w.changing.length <= 3 ? w.changing.join(', ') : `${w.changing.length} of ${w.targets.length} clusters`})`;
  const [first, ...later] = reached;
  let sentence = `This change reaches ${part(first!)} first${later.length > 0 ? `, then ${later.map(part).join(', then ')}` : ''}.`;
  const skipped = view.waves.filter((w) => w.wave < first!.wave);
  if (skipped.length > 0) sentence += ` No cluster of ${skipped.map((w) => `wave ${w.wave}`).join(' or ')} changes: no earlier wave tries it before wave ${first!.wave}.`;
  return sentence;
}

/** Targets in rollout order: by wave (targets without one, overlays, last), then as sortTargets. */
export function byWave(targets: readonly OverlayDiff[]): OverlayDiff[] {
  return [...targets].sort((a, b) => (a.wave ?? Number.POSITIVE_INFINITY) - (b.wave ?? Number.POSITIVE_INFINITY) || naturalCompare(a.name, b.name) || naturalCompare(a.dir, b.dir));
}

/** One wave is no rollout order (a fleet whose inventory names no wave): then none, and no noise. */
function wavesOf(targets: readonly OverlayDiff[]): WaveView[] {
  const numbers = [...new Set(targets.flatMap((t) => (t.wave === undefined ? [] : [t.wave])))].sort((a, b) => a - b);
  if (numbers.length < 2) return [];
  return numbers.map((wave) => {
    const mine = targets.filter((t) => t.wave === wave);
    return { wave, targets: mine.map((t) => t.name), changing: mine.filter(isChanging).map((t) => t.name) };
  });
}

/** Whether the target does anything to its cluster: renders differently, fails, or goes away (leaves the inventory). */
export function isChanging(o: OverlayDiff): boolean {
  return o.status !== 'unchanged' || o.failures.length > 0 || o.changes.length > 0 || o.prune !== undefined;
}

/** Still rendered at the head, but its cluster leaves the inventory: the controller stops syncing it. */
export function leavesInventory(o: OverlayDiff): boolean {
  return o.status !== 'removed' && (o.prune?.reasons.includes('removed-from-inventory') ?? false);
}

export function sortTargets(overlays: readonly OverlayDiff[]): OverlayDiff[] {
  return [...overlays].sort((a, b) => naturalCompare(a.name, b.name) || naturalCompare(a.dir, b.dir));
}

export function groupReport(report: DiffReport): FleetView {
  const targets = sortTargets(report.overlays);
  const byKey = new Map<string, { change: ObjectChange; targets: string[]; varies: boolean }>();
  for (const t of targets) {
    for (const change of t.changes) {
      const key = changeKey(change);
      const entry = byKey.get(key) ?? { change, targets: [], varies: false };
      if (!entry.targets.includes(t.name)) entry.targets.push(t.name);
      if (sharedView(change).diff !== sharedView(entry.change).diff) entry.varies = true;
      byKey.set(key, entry);
    }
  }
  // Changes with the same set of targets form one group: a base change shows once, whole.
  const bySet = new Map<string, { targets: string[]; changes: ObjectChange[]; contextVaries: Set<ObjectChange> }>();
  const own = new Map<string, ObjectChange[]>(targets.map((t) => [t.name, []]));
  for (const t of targets) {
    for (const change of t.changes) {
      const entry = byKey.get(changeKey(change))!;
      if (entry.targets.length < 2) {
        own.get(t.name)!.push(change);
        continue;
      }
      if (entry.targets[0] !== t.name) continue; // recorded once, from its first target
      const setKey = entry.targets.join('\n');
      const group = bySet.get(setKey) ?? { targets: entry.targets, changes: [], contextVaries: new Set<ObjectChange>() };
      group.changes.push(entry.change);
      if (entry.varies) group.contextVaries.add(entry.change);
      bySet.set(setKey, group);
    }
  }
  const shared = [...bySet.values()].sort((a, b) => b.targets.length - a.targets.length || naturalCompare(a.targets[0]!, b.targets[0]!));

  const warningsByKey = new Map<string, { warning: DiffWarning; targets: string[] }>();
  for (const t of targets) {
    for (const w of t.warnings) {
      const key = warningKey(w);
      const entry = warningsByKey.get(key) ?? { warning: w, targets: [] };
      if (!entry.targets.includes(t.name)) entry.targets.push(t.name);
      warningsByKey.set(key, entry);
    }
  }
  // Stable: groups keep the order of their first target, larger groups first.
  const warnings = [...warningsByKey.values()].map((w, i) => ({ ...w, i })).sort((a, b) => b.targets.length - a.targets.length || a.i - b.i).map(({ warning, targets: ts }) => ({ warning, targets: ts }));

  return { noun: targetNoun(targets), targets, changing: targets.filter(isChanging).map((t) => t.name), shared, own, warnings, waves: wavesOf(targets) };
}

/** `site-1, site-2, site-3`, or all of them; at most `max` names, then how many more. */
export function listTargets(names: readonly string[], total: number, max = Number.POSITIVE_INFINITY): string {
  if (names.length === total && total > 1) return 'all of them';
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

/** "The same change in 42 of 60 clusters". */
export function sameIn(what: 'change' | 'changes' | 'warning', count: number, total: number, noun: string): string {
  return `The same ${what} in ${count} of ${total} ${noun}`;
}
