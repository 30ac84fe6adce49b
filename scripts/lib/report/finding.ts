// The finding every checking command reports (validate, verify), the per-overlay report that groups
// them, and a rule's description. The formats beside this file (text, JSON, SARIF) print these.
import type { Overlay } from '../model/overlays.ts';

export type Severity = 'error' | 'warning';

/**
 * One problem, precise enough to fix without reading the render: which overlay, which object,
 * which source file produced it, which field, and what to do.
 */
export interface Finding {
  /** Overlay name (the directory's base name). */
  readonly overlay: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  /** The source file that produced the object, relative to the repository when inside it. */
  readonly file?: string;
  /** 1-based line in `file` where the field (or the object) is written, when it could be found. */
  readonly line?: number;
  /** The field, as a dotted path with list indexes or selectors: `spec.template.spec.containers[emqx].env[EMQX_HOST]`. */
  readonly path?: string;
  /** Stable identifier, e.g. `emqx/discovery-service`, `schema`, `security/run-as-non-root`, `server/rejected`. */
  readonly rule: string;
  readonly severity: Severity;
  /** What is wrong and how to fix it, in one or two sentences. */
  readonly message: string;
}

export interface OverlayReport {
  readonly overlay: Overlay;
  /** Objects checked; 0 when the render failed. */
  readonly objects: number;
  readonly findings: readonly Finding[];
}

/** A check's id, severity, description and fix: SARIF's tool.driver.rules and the docs list these. */
export interface RuleDescription {
  readonly id: string;
  readonly severity: Severity;
  readonly description: string;
  readonly fix: string;
}
