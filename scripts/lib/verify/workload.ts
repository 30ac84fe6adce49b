// The workload on the control plane: every replica Ready, a StatefulSet's claims Bound, and a deleted
// StatefulSet pod back with the same name and claims. Bounded waits; a timeout is a finding that
// says what it waited for, for how long, and what it saw last.
import type { ControlPlane } from '../tools/control-plane/start.ts';
import { provisionPendingClaims } from '../tools/control-plane/provisioner.ts';
import { waitUntil, WaitTimeout } from '../tools/control-plane/processes.ts';
import { asArray, asRecord, asString, type K8sObject } from '../model/object.ts';
import { VERIFY_RULES } from './rules.ts';
import { seconds, type CheckContext, type CheckFinding } from './checks.ts';
import { getJson, isReady, podsOf, podTrouble, warningEvents, type LivePod } from './live.ts';

const PLURAL: Readonly<Record<string, string>> = { StatefulSet: 'statefulsets', Deployment: 'deployments' };

export function isCheckedWorkload(o: K8sObject): boolean {
  return o.apiVersion === 'apps/v1' && PLURAL[o.kind] !== undefined && o.metadata.namespace !== undefined;
}

interface LiveWorkload {
  metadata: { name: string; generation?: number };
  spec: { replicas?: number; selector?: unknown; volumeClaimTemplates?: Array<{ metadata?: { name?: string } }> };
  status?: { readyReplicas?: number; observedGeneration?: number };
}

const workloadPath = (o: K8sObject) => `/apis/apps/v1/namespaces/${o.metadata.namespace}/${PLURAL[o.kind]}/${o.metadata.name}`;
const ref = (o: K8sObject) => ({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace! });

/** Runs a bounded wait; its timeout becomes a finding built from what was seen last. */
async function waitOr(ctx: CheckContext, what: string, probe: () => Promise<true | string>, onTimeout: (waited: number, last: string) => Promise<CheckFinding>): Promise<CheckFinding | undefined> {
  try {
    await waitUntil(what, ctx.waitMs, probe, 500);
    return undefined;
  } catch (error) {
    if (error instanceof WaitTimeout) return onTimeout(error.waitedMs, error.last);
    throw error;
  }
}

export async function checkWorkload(cp: ControlPlane, object: K8sObject, ctx: CheckContext): Promise<CheckFinding[]> {
  const ns = object.metadata.namespace!;
  const wanted = typeof asRecord(object.spec).replicas === 'number' ? (asRecord(object.spec).replicas as number) : 1;
  const notReady = await waitOr(
    ctx,
    `${object.kind} ${ns}/${object.metadata.name}: ${wanted} of ${wanted} replicas Ready`,
    async () => {
      await provisionPendingClaims(cp);
      const live = await getJson<LiveWorkload>(cp, workloadPath(object));
      if (!live) return 'not found';
      const ready = live.status?.readyReplicas ?? 0;
      const current = (live.status?.observedGeneration ?? 0) >= (live.metadata.generation ?? 0);
      return ready >= (live.spec.replicas ?? 1) && current ? true : `${ready} of ${live.spec.replicas ?? 1} replicas Ready`;
    },
    async (waited, last) => {
      const pods = await podsOf(cp, ns, asRecord(object.spec).selector).catch(() => []);
      const troubled = pods.filter((p) => !isReady(p)).map((p) => `pod ${p.metadata.name}: ${podTrouble(p)}`);
      const events = await warningEvents(cp, ns, object.kind, object.metadata.name);
      const seen = [...troubled.slice(0, 3), ...events.map((e) => `event ${e}`)];
      return {
        object: ref(object),
        rule: VERIFY_RULES.notReady,
        path: 'spec.replicas',
        message: `waited ${seconds(waited)} for ${wanted} of ${wanted} replicas Ready; saw ${last || 'nothing'}${pods.length === 0 ? ', and no pod was created' : ''}.${seen.length ? `\n${seen.join('\n')}` : ''}`,
      };
    },
  );
  if (notReady) return [notReady];
  if (object.kind !== 'StatefulSet') return [];
  const claimNames = asArray(asRecord(object.spec).volumeClaimTemplates).map((t) => asString(asRecord(t.metadata).name) ?? '');
  const findings: CheckFinding[] = [];
  if (claimNames.length > 0) {
    const expected = Array.from({ length: wanted }, (_, i) => claimNames.map((c) => `${c}-${object.metadata.name}-${i}`)).flat();
    const unbound = await waitOr(
      ctx,
      `claims ${expected.join(', ')} Bound`,
      async () => {
        await provisionPendingClaims(cp);
        const phases = await Promise.all(expected.map(async (c) => [c, (await getJson<{ status?: { phase?: string } }>(cp, `/api/v1/namespaces/${ns}/persistentvolumeclaims/${c}`))?.status?.phase ?? 'missing'] as const));
        const notBound = phases.filter(([, p]) => p !== 'Bound');
        return notBound.length === 0 ? true : notBound.map(([c, p]) => `${c} ${p}`).join(', ');
      },
      async (waited, last) => ({
        object: ref(object),
        rule: VERIFY_RULES.claims,
        path: 'spec.volumeClaimTemplates',
        message: `waited ${seconds(waited)} for the claims ${expected.join(', ')} to be Bound; last seen: ${last}.`,
      }),
    );
    if (unbound) return [unbound];
  }
  const recreated = await checkPodRecreate(cp, object, ctx);
  if (recreated) findings.push(recreated);
  return findings;
}

const claimsOf = (pod: LivePod): string[] =>
  asArray(pod.spec.volumes)
    .map((v) => asString(asRecord(v.persistentVolumeClaim).claimName))
    .filter((c): c is string => c !== undefined)
    .sort();

/** Deletes the StatefulSet's pod 0 and waits for its replacement: same name, same claims, Ready. */
async function checkPodRecreate(cp: ControlPlane, object: K8sObject, ctx: CheckContext): Promise<CheckFinding | undefined> {
  const ns = object.metadata.namespace!;
  const name = `${object.metadata.name}-0`;
  const podPath = `/api/v1/namespaces/${ns}/pods/${name}`;
  const before = await getJson<LivePod>(cp, podPath);
  if (!before) return { object: ref(object), rule: VERIFY_RULES.podRecreate, message: `pod ${name} does not exist although the StatefulSet is Ready.` };
  const claims = claimsOf(before);
  const deleted = await cp.api(podPath, { method: 'DELETE' });
  if (deleted.status !== 200 && deleted.status !== 202) throw new Error(`DELETE ${podPath}: HTTP ${deleted.status} ${deleted.body.slice(0, 200)}`);
  let after: LivePod | undefined;
  const timedOut = await waitOr(
    ctx,
    `pod ${ns}/${name} recreated and Ready`,
    async () => {
      await provisionPendingClaims(cp);
      after = await getJson<LivePod>(cp, podPath);
      if (!after) return 'deleted, not recreated yet';
      if (after.metadata.uid === before.metadata.uid) return 'the old pod is still terminating';
      return isReady(after) ? true : `recreated, not Ready: ${podTrouble(after)}`;
    },
    async (waited, last) => ({
      object: ref(object),
      rule: VERIFY_RULES.podRecreate,
      message: `deleted pod ${name} and waited ${seconds(waited)} for the StatefulSet to bring it back Ready; last seen: ${last}.`,
    }),
  );
  if (timedOut) return timedOut;
  const now = claimsOf(after!);
  if (now.join(',') !== claims.join(',')) {
    return {
      object: ref(object),
      rule: VERIFY_RULES.podRecreate,
      path: 'spec.volumeClaimTemplates',
      message: `pod ${name} came back with the claims [${now.join(', ')}], not the ones it had [${claims.join(', ')}]: its data would not follow it.`,
    };
  }
  ctx.note(`${object.kind} ${ns}/${object.metadata.name}: pod ${name} deleted and back with the same name and claims${claims.length ? ` (${claims.join(', ')})` : ''}`);
  return undefined;
}
