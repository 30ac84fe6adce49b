// For a terminal: what `npm run diff` prints by default. Targets in natural order; a change or
// warning that several targets share is printed once with the list of them (see group.ts).
import { summarizePaths } from './format-markdown.ts';
import { byWave, groupReport, isChanging, listTargets, rolloutSentence, sameIn, sharedView } from './group.ts';
import { describeId } from './objects.ts';
import { countChanges, type DiffReport, type ObjectChange } from './types.ts';

function changeLines(change: ObjectChange, shared: boolean): string[] {
  const view = shared ? sharedView(change) : { object: describeId(change.id), diff: change.diff, ...(change.previousName ? { previousName: change.previousName } : {}) };
  const summary = summarizePaths({ ...change, ...(view.previousName ? { previousName: view.previousName } : {}) });
  return ['', `${change.change} ${view.object}${summary ? `: ${summary}` : ''}`, `--- base/${view.object}`, `+++ head/${view.object}`, view.diff.trimEnd()];
}

export function formatText(report: DiffReport): string {
  const view = groupReport(report);
  const total = view.targets.length;
  const out: string[] = [];
  const head = report.head.commit ? `${report.head.ref} (${report.head.commit.slice(0, 12)})` : report.head.ref;
  out.push(`base ${report.base.ref} (${report.base.commit.slice(0, 12)}) -> head ${head}`, `${view.changing.length} of ${total} ${view.noun} change`);
  const rollout = rolloutSentence(view);
  if (rollout) out.push(rollout);
  out.push('');
  // A fleet with waves: wave by wave, the order a change reaches the clusters.
  for (const o of view.waves.length > 0 ? byWave(view.targets) : view.targets) {
    const c = countChanges(o);
    const status = o.status === 'unchanged' && o.notRendered ? 'unchanged (inputs not modified)' : o.status;
    const wave = view.waves.length > 0 ? `${o.wave === undefined ? '' : `wave ${o.wave}`}`.padEnd(8) : '';
    out.push(`${wave}${o.name.padEnd(32)} ${status.padEnd(32)} +${c.added} -${c.removed} ~${c.changed}  warnings: ${o.warnings.length}`);
  }
  const warningCount = view.targets.reduce((n, o) => n + o.warnings.length, 0);
  if (warningCount > 0) {
    out.push('', `WARNINGS (${warningCount})`);
    for (const g of view.warnings) {
      const w = g.warning;
      const who = g.targets.length === 1 ? g.targets[0]! : `${sameIn('warning', g.targets.length, total, view.noun)}: ${listTargets(g.targets, total)}`;
      out.push(`  ${who}: ${w.object} [${w.rule}]`, `    ${w.message}`, `    way through: ${w.remedy}`);
    }
  }
  for (const g of view.shared) {
    out.push('', `=== ${sameIn(g.changes.length === 1 ? 'change' : 'changes', g.targets.length, total, view.noun)}: ${listTargets(g.targets, total)}`);
    for (const change of g.changes) {
      out.push(...changeLines(change, true));
      if (g.contextVaries.has(change)) out.push(`(the unchanged lines around it are ${g.targets[0]}'s; they differ in the others)`);
    }
  }
  for (const o of view.targets) {
    for (const f of o.failures) out.push('', `=== ${o.name}: ${f.side} failed to render`, f.message);
    const own = view.own.get(o.name) ?? [];
    if (own.length === 0 || !isChanging(o)) continue;
    const shared = o.changes.length - own.length;
    out.push('', `=== ${o.name} (${o.dir})${shared > 0 ? `: ${shared} shared change(s) above, and` : ''}`);
    for (const change of own) out.push(...changeLines(change, false));
  }
  return `${out.join('\n')}\n`;
}
