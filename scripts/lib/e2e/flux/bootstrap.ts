// Flux bootstrap as docs/gitops.md says: the namespaces and `emqx-secrets`, production's issuer and
// store, `kubectl apply -k gitops/flux`, then every overlay's Kustomization Ready at the pushed commit.
import path from 'node:path';
import { describeWorkload, podsOf } from '../cluster.ts';
import type { E2eContext } from '../context.ts';
import { createOperatorPrerequisites, createOverlayPrerequisites } from '../prerequisites.ts';
import { getKustomization } from './controllers.ts';
import { fluxSyncTo, fluxWorkloads, kustomizationOf } from './sync.ts';

export interface FluxBootstrapReport {
  readonly commit: string;
  readonly kustomizations: ReadonlyArray<{ readonly name: string; readonly revision: string }>;
  readonly workloads: ReadonlyArray<{ readonly workload: string; readonly readyPods: number }>;
  readonly standIns: string[];
}

export async function bootstrapFlux(ctx: E2eContext): Promise<FluxBootstrapReport> {
  const { plane, repo } = ctx;
  const namespaces = await createOverlayPrerequisites(plane, ctx.overlays);
  await createOperatorPrerequisites(plane);
  ctx.log(`  namespaces and emqx-secrets: ${namespaces.join(', ')}`);
  await plane.kubectlOk(['apply', '-k', path.join(repo.work, 'gitops', 'flux')]);
  const commit = await repo.head();
  const standIns = await fluxSyncTo(ctx, commit);
  const kustomizations = await Promise.all(['emqx-gitops', ...ctx.overlays.map(kustomizationOf)].map(async (name) => ({ name, revision: (await getKustomization(plane, name))?.status?.lastAppliedRevision ?? '' })));
  const workloads = [];
  for (const w of await fluxWorkloads(ctx)) workloads.push({ workload: describeWorkload(w), readyPods: (await podsOf(plane, w)).filter((p) => p.ready && !p.terminating).length });
  return { commit, kustomizations, workloads, standIns };
}
