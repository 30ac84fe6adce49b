// The contract between the validate command, its rules and its output formats.

/** A Kubernetes object as parsed from a rendered stream. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly [key: string]: unknown;
  };
  readonly [key: string]: unknown;
}

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
  /** The field, as a dotted path with list indexes or selectors: `spec.template.spec.containers[emqx].env[EMQX_HOST]`. */
  readonly path?: string;
  /** Stable identifier, e.g. `emqx/discovery-service`, `schema`, `security/run-as-non-root`. */
  readonly rule: string;
  readonly severity: Severity;
  /** What is wrong and how to fix it, in one or two sentences. */
  readonly message: string;
}

/** What a rule sees: one overlay's rendered objects. */
export interface RuleContext {
  readonly overlay: string;
  readonly objects: readonly K8sObject[];
}

/** A finding before the engine adds the overlay and the source file. */
export type RuleFinding = Omit<Finding, 'overlay' | 'file'> & { readonly object?: K8sObject };

export interface Rule {
  readonly id: string;
  readonly severity: Severity;
  /** One line for `--help` and the README's rule table. */
  readonly description: string;
  check(context: RuleContext): RuleFinding[];
}
