import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { asArray, asRecord, asString, isEmptySelector, sameNamespace, selectorMatches } from '../../model/object.ts';
import { workloads } from '../../model/workloads.ts';

export const serviceTargetPort: Rule = {
  id: 'k8s/service-target-port',
  severity: 'error',
  description: 'A Service targetPort given by name is a port name that every workload the Service selects exposes.',
  fix: 'name a port that the selected containers declare under `ports:` (or use the port number).',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    const all = workloads(objects);
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      const selector = asRecord(service.spec).selector;
      if (isEmptySelector(selector, true)) continue;
      const selected = all.filter((w) => sameNamespace(w.object, service) && selectorMatches(selector, w.labels, true));
      for (const port of asArray(asRecord(service.spec).ports)) {
        const target = asString(port.targetPort);
        if (target === undefined) continue;
        for (const w of selected) {
          const names = asArray(w.podSpec.containers).flatMap((c) => asArray(c.ports).map((p) => asString(p.name)));
          if (!names.includes(target)) {
            findings.push(
              findingFor(this, service, `targetPort "${target}" names no port of ${w.object.kind} ${w.object.metadata.name}, which this Service selects (its containers expose: ${names.filter(Boolean).join(', ') || 'none'}); traffic would go nowhere.`, {
                path: `spec.ports[${asString(port.name) ?? port.port}].targetPort`,
                locate: `targetPort: ${target}`,
              }),
            );
          }
        }
      }
    }
    return findings;
  },
};
