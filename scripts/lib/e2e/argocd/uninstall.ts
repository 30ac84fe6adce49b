// Uninstalling gitops/argocd's ApplicationSet without taking the brokers down. The template names
// the resources finalizer (so that removing an overlay prunes it), and `preserveResourcesOnDeletion`
// only stops the controller from adding that finalizer to a template that has none
// (applicationset/utils/utils.go, v3.6.1): a plain delete of the ApplicationSet deletes every
// Application, and their finalizers every broker. `kubectl delete --cascade=orphan` leaves the
// Applications (Kubernetes drops their owner reference) and so everything they deployed.
import { ARGOCD_NAMESPACE } from '../../tools/control-plane/argocd.ts';
import { describeWorkload, podsOf, rolledOut } from '../cluster.ts';
import type { E2eContext } from '../context.ts';
import { applicationSetExists, getApplication } from './applications.ts';
import { applicationOf, argoWorkloads } from './sync.ts';

export interface ArgoUninstallReport {
  readonly command: string;
  readonly applicationsKept: string[];
  readonly ownerReferencesLeft: string[];
  readonly workloads: ReadonlyArray<{ readonly workload: string; readonly samePods: boolean; readonly ready: boolean }>;
}

/** How long the stage watches the brokers after the delete: the garbage collector acts within a second or two. */
const WATCH_MS = 8_000;

export async function uninstallApplicationSetKeepingBrokers(ctx: E2eContext, overlays: readonly string[]): Promise<ArgoUninstallReport> {
  const { plane } = ctx;
  const workloads = await argoWorkloads(ctx, overlays);
  const podsBefore = new Map<string, string[]>();
  for (const w of workloads) podsBefore.set(describeWorkload(w), (await podsOf(plane, w)).map((p) => p.uid).sort());
  const args = ['-n', ARGOCD_NAMESPACE, 'delete', 'applicationset', 'emqx', '--cascade=orphan', '--wait=true'];
  await plane.kubectlOk(args);
  await ctx.wait('ApplicationSet emqx to be gone', async () => ((await applicationSetExists(plane, 'emqx')) ? 'still there' : true));
  await new Promise((r) => setTimeout(r, WATCH_MS));
  const applicationsKept: string[] = [];
  const ownerReferencesLeft: string[] = [];
  for (const o of overlays) {
    const app = await getApplication(plane, applicationOf(o));
    if (app && !app.metadata.deletionTimestamp) applicationsKept.push(app.metadata.name);
    if (app?.metadata.ownerReferences?.length) ownerReferencesLeft.push(app.metadata.name);
  }
  const after = [];
  for (const w of workloads) {
    const pods = (await podsOf(plane, w)).map((p) => p.uid).sort();
    after.push({ workload: describeWorkload(w), samePods: pods.join() === podsBefore.get(describeWorkload(w))!.join(), ready: (await rolledOut(plane, w)) === true });
  }
  return { command: `kubectl ${args.slice(0, -1).join(' ')}`, applicationsKept, ownerReferencesLeft, workloads: after };
}
