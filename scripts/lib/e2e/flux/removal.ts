// An overlay directory removed (and `npm run gitops:flux`, as docs/gitops.md says): emqx-gitops prunes
// the overlay's Kustomization, whose prune deletes everything it applied; the namespace, the Secret
// and the claims survive.
import { claimsIn, exists, inventoryPath } from '../cluster.ts';
import { regenerateFluxFiles } from '../commands.ts';
import type { E2eContext } from '../context.ts';
import { removeDirectory } from '../repository.ts';
import { overlayToRemove, podCount, survivorsIn } from '../survivors.ts';
import { getKustomization, requestReconcile } from './controllers.ts';
import { kustomizationOf, reconcileSource, waitKustomizationsReady } from './sync.ts';

export interface FluxRemovalReport {
  readonly commit: string;
  readonly overlay: string;
  readonly generated: string[];
  readonly pruned: string[];
  readonly kept: string[];
  readonly notPruned: string[];
}

export async function removeOverlayThroughFlux(ctx: E2eContext): Promise<FluxRemovalReport> {
  const { plane } = ctx;
  const overlay = overlayToRemove(ctx.overlays);
  const namespace = `emqx-${overlay}`;
  const name = kustomizationOf(overlay);
  const inventory = ((await getKustomization(plane, name))?.status?.inventory?.entries ?? []).map((e) => e.id);
  const claimsBefore = await claimsIn(plane, namespace);
  await removeDirectory(ctx.repo, `overlays/${overlay}`);
  const generated = await regenerateFluxFiles(ctx.repo.work);
  const commit = await ctx.repo.commit(`overlays: remove ${overlay}`);
  await ctx.repo.push();
  await reconcileSource(ctx, commit);
  await requestReconcile(plane, 'kustomization', 'emqx-gitops');
  await waitKustomizationsReady(ctx, ['emqx-gitops'], commit);
  await ctx.wait(`Kustomization ${name} to be deleted (pruned by emqx-gitops)`, async () => ((await getKustomization(plane, name)) ? 'still there' : true));
  await ctx.wait(`the objects of Kustomization ${name} to be deleted`, async () => {
    const left = [];
    for (const id of inventory) {
      const p = inventoryPath(id);
      if (p && (await exists(plane, p))) left.push(id);
    }
    const pods = await podCount(ctx, namespace);
    if (left.length === 0 && pods === 0) return true;
    return `left: ${[...left, ...(pods ? [`${pods} pods`] : [])].join(', ')}`;
  });
  const pruned: string[] = [];
  const notPruned: string[] = [];
  for (const id of inventory) (inventoryPath(id) ? pruned : notPruned).push(id);
  return { commit, overlay, generated, pruned, kept: await survivorsIn(ctx, namespace, claimsBefore), notPruned };
}
