import type { Rule, RuleFinding } from './types.ts';
import type { K8sObject } from '../model/object.ts';

export interface FindingDetail {
  readonly path?: string;
  /** See RuleFinding.locate. */
  readonly locate?: string | readonly string[];
  /** A fix more specific than the rule's own. */
  readonly fix?: string;
}

/** A rule's finding on one object: the problem, then `Fix: ...` (the rule's hint unless a better one is given). */
export function findingFor(rule: Rule, object: K8sObject, problem: string, detail: FindingDetail = {}): RuleFinding {
  const fix = detail.fix ?? rule.fix;
  return {
    object,
    kind: object.kind,
    name: object.metadata.name,
    ...(object.metadata.namespace !== undefined ? { namespace: object.metadata.namespace } : {}),
    ...(detail.path !== undefined ? { path: detail.path } : {}),
    ...(detail.locate !== undefined ? { locate: detail.locate } : {}),
    rule: rule.id,
    severity: rule.severity,
    message: fix ? `${problem} Fix: ${fix}` : problem,
  };
}
