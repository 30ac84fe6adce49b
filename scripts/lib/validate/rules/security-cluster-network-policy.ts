import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { type K8sObject, asArray, asRecord, asString, sameNamespace, selectorMatches } from '../../model/object.ts';
import { type EmqxWorkload, emqxWorkloads } from '../../model/workloads.ts';

/** Erlang distribution and gen_rpc: whoever reaches them with the cookie runs code on the node. */
export const CLUSTER_PORTS = [
  { port: 4370, names: ['ekka'] },
  { port: 5369, names: ['gen-rpc'] },
];

export const clusterNetworkPolicy: Rule = {
  id: 'security/cluster-network-policy',
  severity: 'error',
  description: 'An EMQX workload with more than one replica has a NetworkPolicy that selects its pods and admits the cluster ports (4370, 5369) only from named peers.',
  fix: 'keep base/networkpolicy.yaml: policyTypes [Ingress], ports ekka and gen-rpc only `from` the EMQX pods.',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of emqxWorkloads(objects)) {
      if (w.replicas <= 1) continue;
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy' && sameNamespace(o, w.object) && selectorMatches(asRecord(o.spec).podSelector, w.labels) && guardsIngress(o));
      for (const { port, names } of CLUSTER_PORTS) {
        const portNames = [...names, ...containerPortNames(w, port)];
        if (policies.length === 0) {
          findings.push(findingFor(this, w.object, `${w.replicas} replicas and no NetworkPolicy restricts ingress to the pods: port ${port} is open to the whole cluster.`, { path: 'spec.template.metadata.labels' }));
          break;
        }
        // Policies add up: the port is open if any selecting policy lets anyone reach it.
        const open = policies.find((p) => asArray(asRecord(p.spec).ingress).some((rule) => admitsPort(rule, port, portNames) && admitsAnyone(rule)));
        if (open) findings.push(findingFor(this, open, `an ingress rule admits port ${port} from any source.`, { path: 'spec.ingress', fix: `restrict port ${port} with a \`from\` that selects only the EMQX pods.` }));
      }
    }
    return findings;
  },
};

function guardsIngress(policy: K8sObject): boolean {
  const spec = asRecord(policy.spec);
  const types = Array.isArray(spec.policyTypes) ? spec.policyTypes.map(String) : undefined;
  return types ? types.includes('Ingress') : true;
}

function containerPortNames(w: EmqxWorkload, port: number): string[] {
  return asArray(w.container.ports).filter((p) => p.containerPort === port).flatMap((p) => (asString(p.name) ? [asString(p.name)!] : []));
}

function admitsPort(rule: Record<string, unknown>, port: number, names: readonly string[]): boolean {
  const ports = asArray(rule.ports);
  if (ports.length === 0) return true;
  return ports.some((p) => {
    if (p.port === undefined) return true;
    if (typeof p.port === 'number') return typeof p.endPort === 'number' ? p.port <= port && port <= p.endPort : p.port === port;
    return names.includes(String(p.port));
  });
}

function admitsAnyone(rule: Record<string, unknown>): boolean {
  const from = asArray(rule.from);
  return from.length === 0 || from.some((peer) => peer.ipBlock !== undefined && asString(asRecord(peer.ipBlock).cidr)?.endsWith('/0'));
}
