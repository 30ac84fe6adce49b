// Flux's force, which docs/gitops.md warns against: a claim size with
// `kustomize.toolkit.fluxcd.io/force: enabled` on the StatefulSet, in git, as a user would write it.
// It gets the immutable change through by deleting and recreating the StatefulSet: every broker is
// replaced at once; the claims stay at their old size.
import { rolledOut, describeWorkload, workloadUid } from '../cluster.ts';
import type { E2eContext } from '../context.ts';
import { statefulSetOf } from '../pushes.ts';
import { compareStatefulSet, statefulSetState, type StatefulSetComparison } from '../statefulset-state.ts';
import { kustomizationOf, reconcileSource, waitKustomizationsReady } from './sync.ts';

/** What the stage appends to the overlay's kustomization: a new claim size, and Flux's force on the StatefulSet. */
const FORCE_PATCH = `patches:
  - target: {kind: StatefulSet, name: emqx}
    patch: |-
      - op: replace
        path: /spec/volumeClaimTemplates/0/spec/resources/requests/storage
        value: 30Gi
      - op: add
        path: /metadata/annotations/kustomize.toolkit.fluxcd.io~1force
        value: enabled
`;

export type FluxForceReport = StatefulSetComparison & { readonly commit: string };

export async function fluxForce(ctx: E2eContext): Promise<FluxForceReport> {
  const overlay = ctx.overlays.includes('production') ? 'production' : ctx.overlays.find((o) => o !== 'single-node' && o !== 'deployment-ip')!;
  const w = statefulSetOf(overlay);
  const before = await statefulSetState(ctx, w);
  await ctx.repo.edit(`overlays/${overlay}/kustomization.yaml`, (t) => `${t.trimEnd()}\n${FORCE_PATCH}`);
  const commit = await ctx.repo.commit(`${overlay}: claims of 30Gi, applied with Flux's force`);
  await ctx.repo.push();
  await reconcileSource(ctx, commit);
  await waitKustomizationsReady(ctx, [kustomizationOf(overlay)], commit);
  await ctx.wait(`${describeWorkload(w)} recreated by Flux and Ready`, async () => {
    if (((await workloadUid(ctx.plane, w)) ?? before.uid) === before.uid) return 'the StatefulSet is the old one';
    return rolledOut(ctx.plane, w);
  });
  return { commit, ...compareStatefulSet(w, before, await statefulSetState(ctx, w)) };
}
