import { findingFor } from '../finding.ts';
import type { Rule } from '../types.ts';
import { asRecord, isEmptySelector, selectorMatches } from '../../model/object.ts';
import { workloads } from '../../model/workloads.ts';

// Jobs generate their own selector; Pods have none.
const SELECTED_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController']);

export const selectorMatchesTemplate: Rule = {
  id: 'k8s/selector-matches-template',
  severity: 'error',
  description: "A workload's spec.selector is not empty and matches its pod template's labels (the API server rejects it otherwise).",
  fix: 'make spec.selector a subset of spec.template.metadata.labels; with kustomize, set both through `labels:` with `includeSelectors: true`.',
  check({ objects }) {
    return workloads(objects)
      .filter((w) => SELECTED_KINDS.has(w.object.kind))
      .flatMap((w) => {
        const plain = w.object.kind === 'ReplicationController';
        const selector = asRecord(w.object.spec).selector;
        if (isEmptySelector(selector, plain)) {
          return [findingFor(this, w.object, `${w.object.kind} ${w.object.metadata.name} has an empty selector.`, { path: 'spec.selector' })];
        }
        if (!selectorMatches(selector, w.labels, plain)) {
          return [
            findingFor(this, w.object, `spec.selector ${JSON.stringify(selector)} does not match the pod template labels ${JSON.stringify(w.labels)}; the API server rejects it.`, {
              path: 'spec.selector',
            }),
          ];
        }
        return [];
      });
  },
};
