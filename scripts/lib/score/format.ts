import { displayPath } from '../util/paths.ts';
import type { IgnoredChecks, ScoreFinding, ScoreReport } from './run.ts';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const objectName = (o: { kind: string; namespace?: string; name: string }) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;

function counts(findings: readonly ScoreFinding[]): { critical: number; warnings: number } {
  const critical = findings.filter((f) => f.severity === 'critical').length;
  return { critical, warnings: findings.length - critical };
}

/** Findings grouped by overlay, what each object ignores on purpose, then a tally line. */
export function formatText(reports: readonly ScoreReport[]): string {
  const lines: string[] = [];
  for (const report of reports) {
    if (report.renderFailure !== undefined) {
      lines.push(`${report.overlay.name}: does not render`, ...report.renderFailure.split('\n').map((l) => `  ${l}`));
      continue;
    }
    const { critical, warnings } = counts(report.findings);
    lines.push(`${report.overlay.name}: ${plural(report.objects, 'object')}, ${critical} critical, ${plural(warnings, 'warning')}`);
    for (const f of report.findings) {
      lines.push(`  ${f.severity === 'critical' ? 'CRITICAL' : 'WARNING'} [${f.check}] ${objectName(f)}`);
      for (const m of f.messages) lines.push(`    ${m}`);
    }
    for (const i of report.ignored) lines.push(`  ignored on the object (kube-score/ignore), ${objectName(i)}: ${i.checks.join(', ')}`);
  }
  const all = counts(reports.flatMap((r) => r.findings));
  const broken = reports.filter((r) => r.renderFailure !== undefined).length;
  lines.push('', `${plural(reports.length, 'overlay')}${broken ? ` (${broken} not rendered)` : ''}: ${all.critical} critical, ${plural(all.warnings, 'warning')}`);
  return `${lines.join('\n')}\n`;
}

export interface ScoreJson {
  readonly overlays: ReadonlyArray<{
    readonly overlay: string;
    /** Relative to the repository when inside it. */
    readonly dir: string;
    readonly objects: number;
    readonly renderFailure?: string;
    readonly findings: readonly ScoreFinding[];
    readonly ignored: readonly IgnoredChecks[];
  }>;
}

export function formatJson(reports: readonly ScoreReport[]): string {
  const json: ScoreJson = {
    overlays: reports.map((r) => ({
      overlay: r.overlay.name,
      dir: displayPath(r.overlay.dir),
      objects: r.objects,
      ...(r.renderFailure !== undefined ? { renderFailure: r.renderFailure } : {}),
      findings: r.findings,
      ignored: r.ignored,
    })),
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}
