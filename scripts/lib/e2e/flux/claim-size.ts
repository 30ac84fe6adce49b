// A new claim size in components/persistence, through Flux: the diff warns of the immutable field,
// exactly the Kustomizations of the StatefulSets that use the component go Ready=False with
// "field is immutable" (the others stay Ready), and the documented remedy (docs/gitops.md: delete
// the StatefulSet with --cascade=orphan, then reconcile) brings them back with the same pods and claims.
import { rolledOut, describeWorkload } from '../cluster.ts';
import type { E2eContext } from '../context.ts';
import { commitClaimSize, statefulSetOf, type ImmutableWarning } from '../pushes.ts';
import { compareStatefulSet, statefulSetState, type StatefulSetComparison, type StatefulSetState } from '../statefulset-state.ts';
import { commitOf, getKustomization, readyCondition, requestReconcile } from './controllers.ts';
import { kustomizationOf, reconcileSource, waitKustomizationsReady } from './sync.ts';

export interface FluxImmutableReport {
  readonly commit: string;
  readonly diffWarnings: readonly ImmutableWarning[];
  readonly failed: ReadonlyArray<{ readonly kustomization: string; readonly message: string }>;
  readonly unaffectedReady: string[];
  readonly recovered: readonly StatefulSetComparison[];
}

export async function claimSizeThroughFlux(ctx: E2eContext): Promise<FluxImmutableReport> {
  const { plane } = ctx;
  const { commit, warnings } = await commitClaimSize(ctx, '20Gi');
  const affected = [...new Set(warnings.map((w) => w.overlay))];
  const unaffected = ctx.overlays.filter((o) => !affected.includes(o));
  const before = new Map<string, StatefulSetState>();
  for (const o of affected) before.set(o, await statefulSetState(ctx, statefulSetOf(o)));
  await ctx.repo.push();
  await reconcileSource(ctx, commit);
  const failed = [];
  for (const o of affected) {
    const name = kustomizationOf(o);
    let message = '';
    await ctx.wait(`Kustomization ${name} to report Ready=False with "field is immutable" for ${commit.slice(0, 12)}`, async () => {
      const k = await getKustomization(plane, name);
      const ready = readyCondition(k);
      if (commitOf(k?.status?.lastAttemptedRevision) !== commit) return `last attempted ${k?.status?.lastAttemptedRevision ?? 'nothing'}`;
      if (ready?.status === 'False' && /field is immutable/.test(ready.message ?? '')) {
        message = ready.message ?? '';
        return true;
      }
      return `Ready=${ready?.status} ${ready?.message ?? ''}`;
    });
    failed.push({ kustomization: name, message });
  }
  await waitKustomizationsReady(ctx, unaffected.map(kustomizationOf), commit);
  for (const o of affected) {
    const w = statefulSetOf(o);
    await plane.kubectlOk(['-n', w.namespace, 'delete', 'statefulset', w.name, '--cascade=orphan']);
    await requestReconcile(plane, 'kustomization', kustomizationOf(o));
  }
  await waitKustomizationsReady(ctx, affected.map(kustomizationOf), commit);
  const recovered = [];
  for (const o of affected) {
    const w = statefulSetOf(o);
    await ctx.wait(`${describeWorkload(w)} re-created and Ready`, () => rolledOut(plane, w));
    recovered.push(compareStatefulSet(w, before.get(o)!, await statefulSetState(ctx, w)));
  }
  return { commit, diffWarnings: warnings, failed, unaffectedReady: unaffected.map(kustomizationOf), recovered };
}
