// For a terminal: what `npm run diff` prints by default.
import { summarizePaths } from './format-markdown.ts';
import { describeId } from './objects.ts';
import { countChanges, type DiffReport } from './types.ts';

export function formatText(report: DiffReport): string {
  const out: string[] = [];
  const head = report.head.commit ? `${report.head.ref} (${report.head.commit.slice(0, 12)})` : report.head.ref;
  out.push(`base ${report.base.ref} (${report.base.commit.slice(0, 12)}) -> head ${head}`, '');
  for (const o of report.overlays) {
    const c = countChanges(o);
    const status = o.status === 'unchanged' && o.notRendered ? 'unchanged (inputs not modified)' : o.status;
    out.push(`${o.name.padEnd(32)} ${status.padEnd(32)} +${c.added} -${c.removed} ~${c.changed}  warnings: ${o.warnings.length}`);
  }
  const warnings = report.overlays.flatMap((o) => o.warnings);
  if (warnings.length > 0) {
    out.push('', `WARNINGS (${warnings.length})`);
    for (const w of warnings) out.push(`  ${w.overlay}: ${w.object} [${w.rule}]`, `    ${w.message}`, `    way through: ${w.remedy}`);
  }
  for (const o of report.overlays) {
    for (const f of o.failures) out.push('', `=== ${o.name}: ${f.side} failed to render`, f.message);
    if (o.changes.length === 0) continue;
    out.push('', `=== ${o.name} (${o.dir})`);
    for (const change of o.changes) {
      const summary = summarizePaths(change);
      out.push('', `${change.change} ${describeId(change.id)}${summary ? `: ${summary}` : ''}`);
      out.push(`--- base/${describeId(change.id)}`, `+++ head/${describeId(change.id)}`, change.diff.trimEnd());
    }
  }
  return `${out.join('\n')}\n`;
}
