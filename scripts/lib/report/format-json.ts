import type { Finding, OverlayReport } from './finding.ts';

/** The documented JSON shape (docs/validate.md): every key present, `null` when unknown. */
export interface JsonFinding {
  overlay: string;
  kind: string;
  name: string;
  namespace: string | null;
  file: string | null;
  line: number | null;
  path: string | null;
  rule: string;
  severity: Finding['severity'];
  message: string;
}

export function toJsonFinding(f: Finding): JsonFinding {
  return {
    overlay: f.overlay,
    kind: f.kind,
    name: f.name,
    namespace: f.namespace ?? null,
    file: f.file ?? null,
    line: f.line ?? null,
    path: f.path ?? null,
    rule: f.rule,
    severity: f.severity,
    message: f.message,
  };
}

/** A JSON array of findings, in the text format's order; `[]` when clean. */
export function formatJson(reports: readonly OverlayReport[]): string {
  return `${JSON.stringify(reports.flatMap((r) => r.findings.map(toJsonFinding)), null, 2)}\n`;
}
