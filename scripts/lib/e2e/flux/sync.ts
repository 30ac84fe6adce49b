// "Sync to this commit" the way a Flux user does it (`flux reconcile kustomization --with-source`):
// a requestedAt annotation on the GitRepository, then on every Kustomization, and a bounded wait
// until each is Ready at the commit and its workloads have rolled out.
import { provisionPendingClaims } from '../../tools/control-plane/provisioner.ts';
import { BARE_NAME } from '../repository.ts';
import { describeWorkload, rolledOut, workloadsAmong, type WorkloadRef } from '../cluster.ts';
import type { E2eContext } from '../context.ts';
import type { EngineSync } from '../engine.ts';
import { standInForOperators } from '../prerequisites.ts';
import { commitOf, getGitRepository, getKustomization, inventoryObjects, readyCondition, requestReconcile, type FluxKustomization } from './controllers.ts';

export const kustomizationOf = (overlay: string): string => `emqx-${overlay}`;

export async function fluxWorkloads(ctx: E2eContext): Promise<WorkloadRef[]> {
  const found: WorkloadRef[] = [];
  for (const o of ctx.overlays) {
    const k = await getKustomization(ctx.plane, kustomizationOf(o));
    if (k) found.push(...workloadsAmong(inventoryObjects(k)));
  }
  return found;
}

export async function reconcileSource(ctx: E2eContext, commit: string): Promise<void> {
  await requestReconcile(ctx.plane, 'gitrepository', 'emqx');
  await ctx.wait(`GitRepository emqx to fetch ${commit.slice(0, 12)} from ${ctx.server.urlOf(BARE_NAME)}`, async () => {
    const g = await getGitRepository(ctx.plane);
    const rev = g?.status?.artifact?.revision;
    if (commitOf(rev) === commit) return true;
    const r = readyCondition(g);
    return `artifact ${rev ?? 'none'}; Ready=${r?.status ?? '?'} ${r?.message ?? ''}`;
  });
}

export async function waitKustomizationsReady(ctx: E2eContext, names: readonly string[], commit: string, meanwhile?: () => Promise<void>): Promise<void> {
  await ctx.wait(`Kustomizations ${names.join(', ')} Ready at ${commit.slice(0, 12)}`, async () => {
    await meanwhile?.();
    const pending: string[] = [];
    for (const n of names) {
      const k: FluxKustomization | undefined = await getKustomization(ctx.plane, n);
      const ready = readyCondition(k);
      if (!k) pending.push(`${n}: not created yet`);
      else if (ready?.status !== 'True' || commitOf(k.status?.lastAppliedRevision) !== commit) pending.push(`${n}: Ready=${ready?.status ?? '?'} at ${k.status?.lastAppliedRevision ?? 'nothing'} (${ready?.message ?? ''})`);
    }
    return pending.length === 0 ? true : pending.join('; ');
  });
}

/** Fetch `commit`, have every Kustomization apply it, and wait until each is Ready and its workloads rolled out. */
export async function fluxSyncTo(ctx: E2eContext, commit: string): Promise<string[]> {
  await reconcileSource(ctx, commit);
  const names = ['emqx-gitops', ...ctx.overlays.map(kustomizationOf)];
  for (const n of names) if (await getKustomization(ctx.plane, n)) await requestReconcile(ctx.plane, 'kustomization', n);
  const standIns = new Set<string>();
  await waitKustomizationsReady(ctx, names, commit, async () => {
    await provisionPendingClaims(ctx.plane);
    for (const s of await standInForOperators(ctx.plane)) standIns.add(s);
  });
  for (const w of await fluxWorkloads(ctx)) await ctx.wait(`${describeWorkload(w)} to have every replica Ready`, () => rolledOut(ctx.plane, w));
  return [...standIns];
}

export const FLUX_SYNC: EngineSync = { workloads: fluxWorkloads, syncTo: fluxSyncTo };
