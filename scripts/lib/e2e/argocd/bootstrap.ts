// Argo CD bootstrap as docs/gitops.md says: the namespaces and `emqx-secrets`, production's issuer and
// store, `kubectl apply -k gitops/argocd`; the ApplicationSet's git directory generator then makes
// one Application per overlay, and each must be Synced and Healthy at the pushed commit.
import path from 'node:path';
import { describeWorkload, podsOf } from '../cluster.ts';
import type { E2eContext } from '../context.ts';
import { createOperatorPrerequisites, createOverlayPrerequisites } from '../prerequisites.ts';
import { getApplication } from './applications.ts';
import { applicationOf, argoSyncTo, argoWorkloads } from './sync.ts';

export interface ArgoBootstrapReport {
  readonly commit: string;
  readonly applications: ReadonlyArray<{ readonly name: string; readonly sync: string; readonly health: string; readonly revision: string; readonly path: string }>;
  readonly workloads: ReadonlyArray<{ readonly workload: string; readonly readyPods: number }>;
  readonly standIns: string[];
}

export async function bootstrapArgoCd(ctx: E2eContext): Promise<ArgoBootstrapReport> {
  const { plane, repo } = ctx;
  const namespaces = await createOverlayPrerequisites(plane, ctx.overlays);
  await createOperatorPrerequisites(plane);
  ctx.log(`  namespaces and emqx-secrets: ${namespaces.join(', ')}`);
  await plane.kubectlOk(['apply', '-k', path.join(repo.work, 'gitops', 'argocd')]);
  const commit = await repo.head();
  const standIns = await argoSyncTo(ctx, commit);
  const applications = [];
  for (const o of ctx.overlays) {
    const app = await getApplication(plane, applicationOf(o));
    applications.push({ name: applicationOf(o), sync: app?.status?.sync?.status ?? '', health: app?.status?.health?.status ?? '', revision: app?.status?.sync?.revision ?? '', path: app?.spec.source?.path ?? '' });
  }
  const workloads = [];
  for (const w of await argoWorkloads(ctx)) workloads.push({ workload: describeWorkload(w), readyPods: (await podsOf(plane, w)).filter((p) => p.ready && !p.terminating).length });
  return { commit, applications, workloads, standIns };
}
