// What a check reports before the run adds the overlay and the source file and line.
import type { RuleDescription } from '../report/finding.ts';

export interface ObjectRef {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface CheckFinding {
  readonly object: ObjectRef;
  readonly rule: RuleDescription;
  readonly message: string;
  /** The field at fault, for the finding and to find its line. */
  readonly path?: string;
  /** Text the source line holds (see model/sources.ts SourceIndex.locate). */
  readonly locate?: string | readonly string[];
}

export interface CheckContext {
  /** The bound on every wait. */
  readonly waitMs: number;
  /** A line for the user (stderr): what a check skipped, and why. */
  readonly note: (line: string) => void;
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
