import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { asArray, asRecord, asString } from '../../model/object.ts';
import { containersOf, podPath, workloads } from '../../model/workloads.ts';

/**
 * IANA_SVC_NAME as the API server checks it: at most 15 characters, lower-case letters, digits and
 * `-`, at least one letter, no `-` at either end or twice in a row.
 */
export function ianaServiceNameProblem(name: string): string | undefined {
  if (name.length > 15) return `is ${name.length} characters long (at most 15)`;
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name)) return 'may only hold lower-case letters, digits and inner hyphens';
  if (name.includes('--')) return 'may not hold two hyphens in a row';
  if (!/[a-z]/.test(name)) return 'must hold at least one letter';
  return undefined;
}

export const portName: Rule = {
  id: 'k8s/port-name',
  severity: 'error',
  description: 'Container port names and Service targetPort names are valid IANA service names (at most 15 characters, lower-case alphanumerics and hyphens).',
  fix: 'rename the port (e.g. `gen-rpc`, not `erlang-gen-rpc-port`) and every probe, Service targetPort and NetworkPolicy that names it.',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of workloads(objects)) {
      for (const { container, field, name } of containersOf(w)) {
        for (const port of asArray(container.ports)) {
          const portName = asString(port.name);
          const problem = portName !== undefined ? ianaServiceNameProblem(portName) : undefined;
          if (portName !== undefined && problem) {
            findings.push(findingFor(this, w.object, `port name "${portName}" ${problem}.`, { path: podPath(w, `${field}[${name}].ports[${portName}].name`), locate: portName }));
          }
        }
      }
    }
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      for (const port of asArray(asRecord(service.spec).ports)) {
        const target = asString(port.targetPort);
        const problem = target !== undefined ? ianaServiceNameProblem(target) : undefined;
        if (target !== undefined && problem) {
          findings.push(findingFor(this, service, `targetPort "${target}" ${problem}.`, { path: `spec.ports[${asString(port.name) ?? port.port}].targetPort`, locate: target }));
        }
      }
    }
    return findings;
  },
};
