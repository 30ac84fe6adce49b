// An overlay directory removed, through Argo CD: the git directory generator no longer lists it, so
// the ApplicationSet controller deletes its Application, and the Application's resources finalizer
// deletes what it deployed. What docs/gitops.md says survives (the namespace, `emqx-secrets`, the
// claims) must survive.
import { claimsIn, exists, objectPath } from '../cluster.ts';
import type { E2eContext } from '../context.ts';
import { removeDirectory } from '../repository.ts';
import { overlayToRemove, podCount, survivorsIn } from '../survivors.ts';
import { applicationObjects, getApplication } from './applications.ts';
import { applicationOf } from './sync.ts';

export interface ArgoRemovalReport {
  readonly commit: string;
  readonly overlay: string;
  readonly application: string;
  /** The Application's finalizers before the push: the resources finalizer is what prunes. */
  readonly finalizers: readonly string[];
  readonly pruned: string[];
  readonly kept: string[];
}

export async function removeOverlayThroughArgoCd(ctx: E2eContext): Promise<ArgoRemovalReport> {
  const { plane } = ctx;
  const overlay = overlayToRemove(ctx.overlays);
  const namespace = `emqx-${overlay}`;
  const name = applicationOf(overlay);
  const app = await getApplication(plane, name);
  const resources = app ? applicationObjects(app).filter((r) => r.kind !== 'Namespace') : [];
  const claimsBefore = await claimsIn(plane, namespace);
  await removeDirectory(ctx.repo, `overlays/${overlay}`);
  const commit = await ctx.repo.commit(`overlays: remove ${overlay}`);
  await ctx.repo.push();
  // The generator polls git every few minutes by default; a push webhook makes it immediate. Here a
  // refresh of the ApplicationSet stands in for the webhook.
  await plane.kubectlOk(['-n', 'argocd', 'annotate', '--overwrite', 'applicationsets.argoproj.io/emqx', 'argocd.argoproj.io/application-set-refresh=true']);
  await ctx.wait(`Application ${name} to be deleted (the generator no longer lists overlays/${overlay})`, async () => ((await getApplication(plane, name)) ? 'still there' : true));
  await ctx.wait(`what Application ${name} deployed to be deleted`, async () => {
    const left = [];
    for (const r of resources) {
      const p = objectPath(r);
      if (p && (await exists(plane, p))) left.push(`${r.kind}/${r.name}`);
    }
    const pods = await podCount(ctx, namespace);
    return left.length === 0 && pods === 0 ? true : `left: ${[...left, ...(pods ? [`${pods} pods`] : [])].join(', ')}`;
  });
  return { commit, overlay, application: name, finalizers: app?.metadata.finalizers ?? [], pruned: resources.map((r) => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`), kept: await survivorsIn(ctx, namespace, claimsBefore) };
}
