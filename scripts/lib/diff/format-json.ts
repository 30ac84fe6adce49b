// For tools: the whole report. Built from masked objects, so it holds no Secret value either.
import type { DiffReport } from './types.ts';

export function formatJson(report: DiffReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
