// A cluster directory pins its brokers to its own zones (required node affinity on
// topology.kubernetes.io/zone). Those zones are a property of the cluster, not of the manifests, so
// verify gives the control plane a fake node in each zone a render asks for before applying it.
import { toKubectlInput } from '../tools/kubectl.ts';
import { waitUntil } from '../tools/control-plane/processes.ts';
import { fakeNode, type ControlPlane } from '../tools/control-plane/start.ts';
import { asArray, asRecord, asString, type K8sObject } from '../model/object.ts';
import { workloads } from '../model/workloads.ts';
import { listJson } from './live.ts';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** Zones named by `In` terms of required node affinity on the zone label. */
export function zonesRequired(objects: readonly K8sObject[]): string[] {
  const zones = new Set<string>();
  for (const w of workloads(objects)) {
    const required = asRecord(asRecord(asRecord(w.podSpec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution);
    for (const term of asArray(required.nodeSelectorTerms)) {
      for (const e of asArray(term.matchExpressions)) {
        if (e.key === ZONE_LABEL && e.operator === 'In' && Array.isArray(e.values)) for (const v of e.values) if (typeof v === 'string') zones.add(v);
      }
    }
    const selector = asString(asRecord(w.podSpec.nodeSelector)[ZONE_LABEL]);
    if (selector) zones.add(selector);
  }
  return [...zones].sort();
}

interface LiveNode {
  metadata: { name: string; labels?: Record<string, string> };
  status?: { conditions?: Array<{ type: string; status: string }> };
}

/** Adds a Ready fake node for every zone in `zones` that has none. */
export async function ensureZones(cp: ControlPlane, zones: readonly string[], timeoutMs = 30_000): Promise<string[]> {
  const nodes = await listJson<LiveNode>(cp, '/api/v1/nodes');
  const have = new Set(nodes.map((n) => n.metadata.labels?.[ZONE_LABEL]));
  const missing = zones.filter((z) => !have.has(z));
  if (missing.length === 0) return [];
  const names = missing.map((z) => `kwok-${z}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63));
  await cp.kubectlOk(['apply', '-f', '-'], { input: toKubectlInput(names.map((n, i) => fakeNode(n, missing[i]!))) });
  await waitUntil(`fake nodes ${names.join(', ')} Ready`, timeoutMs, async () => {
    const live = await listJson<LiveNode>(cp, '/api/v1/nodes');
    const ready = live.filter((n) => names.includes(n.metadata.name) && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return ready.length === names.length ? true : `${ready.length} of ${names.length} Ready`;
  });
  return missing;
}
