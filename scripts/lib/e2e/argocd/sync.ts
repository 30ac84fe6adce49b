// "Sync to this commit" the way an Argo CD user sees it: after a push, a refresh of every
// Application (as `argocd app get --refresh` or the git webhook does), then a bounded wait until
// each is Synced and Healthy at the commit, auto-sync doing the rest, and its workloads rolled out.
import { provisionPendingClaims } from '../../tools/control-plane/provisioner.ts';
import type { ControlPlane } from '../../tools/control-plane/start.ts';
import { describeWorkload, rolledOut, workloadsAmong, type WorkloadRef } from '../cluster.ts';
import type { E2eContext } from '../context.ts';
import type { EngineSync } from '../engine.ts';
import { standInForOperators } from '../prerequisites.ts';
import { applicationObjects, describeApplication, getApplication, refreshApplication } from './applications.ts';

export const applicationOf = (overlay: string): string => `emqx-${overlay}`;

export async function argoWorkloads(ctx: E2eContext, overlays: readonly string[] = ctx.overlays): Promise<WorkloadRef[]> {
  const found: WorkloadRef[] = [];
  for (const o of overlays) {
    const app = await getApplication(ctx.plane, applicationOf(o));
    if (app) found.push(...workloadsAmong(applicationObjects(app)));
  }
  return found;
}

/**
 * Waits until every named Application exists and is Synced and Healthy at `commit`, standing in for
 * the operators meanwhile; `otherPlanes` (a fleet's other clusters) get volumes for their claims too.
 */
export async function waitApplicationsSynced(ctx: E2eContext, names: readonly string[], commit: string, standIns: Set<string> = new Set(), otherPlanes: readonly ControlPlane[] = []): Promise<void> {
  await ctx.wait(`Applications ${names.join(', ')} Synced and Healthy at ${commit.slice(0, 12)}`, async () => {
    for (const p of [ctx.plane, ...otherPlanes]) await provisionPendingClaims(p);
    for (const s of await standInForOperators(ctx.plane)) standIns.add(s);
    const pending: string[] = [];
    for (const n of names) {
      const app = await getApplication(ctx.plane, n);
      if (!app) pending.push(`${n}: not generated yet`);
      else if (app.status?.sync?.status !== 'Synced' || app.status.health?.status !== 'Healthy' || app.status.sync.revision !== commit) pending.push(describeApplication(app).trim());
    }
    return pending.length === 0 ? true : pending.join('; ');
  });
}

export async function argoSyncTo(ctx: E2eContext, commit: string, overlays: readonly string[] = ctx.overlays): Promise<string[]> {
  const names = overlays.map(applicationOf);
  for (const n of names) if (await getApplication(ctx.plane, n)) await refreshApplication(ctx.plane, n);
  const standIns = new Set<string>();
  await waitApplicationsSynced(ctx, names, commit, standIns);
  for (const w of await argoWorkloads(ctx, overlays)) await ctx.wait(`${describeWorkload(w)} to have every replica Ready`, () => rolledOut(ctx.plane, w));
  return [...standIns];
}

export const ARGOCD_SYNC: EngineSync = { workloads: (ctx) => argoWorkloads(ctx), syncTo: (ctx, commit) => argoSyncTo(ctx, commit) };
