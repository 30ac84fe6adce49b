// A StatefulSet's identity before and after a remedy: the object's UID, its pods' UIDs and its
// claims. "Same pods, same claims, new StatefulSet" is what the orphan delete promises; "every pod
// replaced" is what a delete-and-recreate (Flux's force, Argo CD's Force=true,Replace=true) does.
import { claimsIn, describeWorkload, podsOf, workloadUid, type ClaimInfo, type WorkloadRef } from './cluster.ts';
import type { E2eContext } from './context.ts';

export interface StatefulSetState {
  readonly uid: string;
  readonly pods: string[];
  readonly claims: ClaimInfo[];
}

export async function statefulSetState(ctx: E2eContext, w: WorkloadRef): Promise<StatefulSetState> {
  return { uid: (await workloadUid(ctx.plane, w)) ?? '', pods: (await podsOf(ctx.plane, w)).map((p) => p.uid).sort(), claims: await claimsIn(ctx.plane, w.namespace) };
}

export interface StatefulSetComparison {
  readonly workload: string;
  readonly newStatefulSet: boolean;
  readonly samePods: boolean;
  /** Every pod replaced: no broker survived. */
  readonly everyPodReplaced: boolean;
  readonly sameClaims: boolean;
  readonly claimSizes: string[];
}

export function compareStatefulSet(w: WorkloadRef, before: StatefulSetState, after: StatefulSetState): StatefulSetComparison {
  const uids = (claims: readonly ClaimInfo[]) => claims.map((c) => c.uid).sort().join();
  return {
    workload: describeWorkload(w),
    newStatefulSet: after.uid !== before.uid,
    samePods: after.pods.join() === before.pods.join(),
    everyPodReplaced: after.pods.length > 0 && after.pods.every((uid) => !before.pods.includes(uid)),
    sameClaims: uids(after.claims) === uids(before.claims),
    claimSizes: after.claims.map((c) => `${c.name}=${c.storage}`),
  };
}
