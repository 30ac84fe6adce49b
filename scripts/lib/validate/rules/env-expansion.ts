import { findingFor } from '../finding.ts';
import type { Rule } from '../types.ts';
import { resolveEnv } from '../../model/env.ts';
import { containersOf, podPath, workloads } from '../../model/workloads.ts';

export const envExpansion: Rule = {
  id: 'k8s/env-expansion',
  severity: 'error',
  description: 'Every `$(VAR)` in an env value refers to a variable defined above it (envFrom, or earlier in env); Kubernetes leaves any other reference unexpanded, as literal text.',
  fix: 'define the variable earlier in `env` (a strategic-merge patch moves the variables it touches to the top: use a JSON patch to keep the order), or correct its name.',
  check({ objects }) {
    return workloads(objects).flatMap((w) =>
      containersOf(w).flatMap(({ container, field, name }) =>
        resolveEnv(container, objects, w.object.metadata.namespace).unexpanded.map((u) =>
          findingFor(
            this,
            w.object,
            `${u.variable} refers to $(${u.reference}), which is ${u.definedLater ? 'defined only further down the env list' : 'not defined in this container'}; the container gets the literal text "$(${u.reference})".`,
            { path: podPath(w, `${field}[${name}].${u.path}.value`), locate: `$(${u.reference})` },
          ),
        ),
      ),
    );
  },
};
