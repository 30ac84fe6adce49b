// The contract between the validate command, its rules and its output formats.
import type { K8sObject } from '../model/object.ts';

// Finding and Severity are shared with verify (scripts/lib/report/finding.ts).
export type { Finding, Severity } from '../report/finding.ts';
import type { Finding, Severity } from '../report/finding.ts';

/** What a rule sees: one overlay's rendered objects. */
export interface RuleContext {
  readonly overlay: string;
  readonly objects: readonly K8sObject[];
  /**
   * Secrets that come from outside the render (validate.config.yaml, `externalSecrets`), by name,
   * with the keys they are promised to hold. Absent: none are declared.
   */
  readonly externalSecrets?: ReadonlyMap<string, ReadonlySet<string>>;
}

/** A finding before the engine adds the overlay and the source file. */
export type RuleFinding = Omit<Finding, 'overlay' | 'file' | 'line'> & {
  readonly object?: K8sObject;
  /**
   * Text that the source line setting the field contains (a value such as `$(POD_IP)`, or an env
   * name such as `EMQX_CLUSTER__K8S__ADDRESS_TYPE`). The engine searches the overlay's own files
   * first, then its bases, so that a finding on a patched field names the patch, not the base.
   * Several: tried in order.
   */
  readonly locate?: string | readonly string[];
};

export interface Rule {
  readonly id: string;
  readonly severity: Severity;
  /** One line for `--help` and the rule table of docs/validate.md. */
  readonly description: string;
  /** How to fix a finding, for docs/validate.md and SARIF help text. */
  readonly fix?: string;
  check(context: RuleContext): RuleFinding[];
}
