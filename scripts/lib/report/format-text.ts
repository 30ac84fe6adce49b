import type { Finding, OverlayReport } from './finding.ts';

export interface Tally {
  readonly overlays: number;
  readonly objects: number;
  readonly errors: number;
  readonly warnings: number;
}

export function tally(reports: readonly OverlayReport[]): Tally {
  const all = reports.flatMap((r) => r.findings);
  return {
    overlays: reports.length,
    objects: reports.reduce((n, r) => n + r.objects, 0),
    errors: all.filter((f) => f.severity === 'error').length,
    warnings: all.filter((f) => f.severity === 'warning').length,
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function where(f: Finding): string {
  const object = `${f.kind} ${f.namespace ? `${f.namespace}/` : ''}${f.name}`;
  const file = f.file ? ` (${f.file}${f.line !== undefined ? `:${f.line}` : ''})` : '';
  return `${object}${file}`;
}

/** Findings grouped by overlay, then a tally line. */
export function formatText(reports: readonly OverlayReport[]): string {
  const lines: string[] = [];
  for (const report of reports) {
    const errors = report.findings.filter((f) => f.severity === 'error').length;
    const warnings = report.findings.length - errors;
    const status = report.findings.length === 0 ? 'ok' : [errors ? plural(errors, 'error') : '', warnings ? plural(warnings, 'warning') : ''].filter(Boolean).join(', ');
    lines.push(`${report.overlay.name}: ${plural(report.objects, 'object')}, ${status}`);
    for (const f of report.findings) {
      lines.push(`  ${f.severity} [${f.rule}] ${where(f)}`);
      if (f.path) lines.push(`    field: ${f.path}`);
      for (const line of f.message.split('\n')) lines.push(`    ${line}`);
    }
  }
  const t = tally(reports);
  lines.push('', `${plural(t.overlays, 'overlay')}, ${plural(t.objects, 'object')}: ${plural(t.errors, 'error')}, ${plural(t.warnings, 'warning')}`);
  return `${lines.join('\n')}\n`;
}
