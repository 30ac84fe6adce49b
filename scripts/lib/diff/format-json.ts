// For tools: the whole report, plus `fleet`, the same changes and warnings grouped across targets
// (added beside the per-target fields, which keep their shape). Built from masked objects, so it
// holds no Secret value either.
import { groupReport, rolloutSentence, sharedView } from './group.ts';
import type { DiffReport } from './types.ts';

export function formatJson(report: DiffReport): string {
  const view = groupReport(report);
  const fleet = {
    noun: view.noun,
    targets: view.targets.length,
    changing: view.changing,
    shared: view.shared.map((g) => ({ targets: g.targets, changes: g.changes.map((c) => ({ change: c.change, id: c.id, paths: c.paths, ...sharedView(c), contextVaries: g.contextVaries.has(c) })) })),
    warnings: view.warnings.map((g) => ({ targets: g.targets, rule: g.warning.rule, object: g.warning.object, message: g.warning.message, remedy: g.warning.remedy })),
    // Wave by wave: every cluster of the wave, and those that change.
    waves: view.waves,
    ...(rolloutSentence(view) ? { rollout: rolloutSentence(view) } : {}),
  };
  return `${JSON.stringify({ ...report, overlays: view.targets, fleet }, null, 2)}\n`;
}
