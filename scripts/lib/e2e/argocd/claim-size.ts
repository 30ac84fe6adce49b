// A new claim size in components/persistence, through Argo CD. The Applications sync with
// ServerSideApply=true, which in Argo CD v3.6 also selects its server-side diff: a dry-run apply
// that the API server refuses for an immutable field. The stage records what Argo CD reports for
// the push (and that nothing was applied), then tries the remedy docs/gitops.md recommends: delete
// the StatefulSet with --cascade=orphan; Argo CD sees it missing and auto-sync creates it anew, which
// adopts the same pods and claims.
import { describeWorkload, rolledOut } from '../cluster.ts';
import type { E2eContext } from '../context.ts';
import { commitClaimSize, statefulSetOf, type ImmutableWarning } from '../pushes.ts';
import { compareStatefulSet, statefulSetState, type StatefulSetComparison, type StatefulSetState } from '../statefulset-state.ts';
import { getApplication, refreshApplication, type ArgoApplication } from './applications.ts';
import { applicationOf, waitApplicationsSynced } from './sync.ts';

export interface ArgoImmutableReport {
  readonly commit: string;
  readonly diffWarnings: readonly ImmutableWarning[];
  /** Per affected Application, every distinct state Argo CD reported for the push, in order, and what the cluster then ran. */
  readonly observed: ReadonlyArray<{ readonly application: string; readonly states: string[]; readonly liveClaimSize: string; readonly syncedAtCommit: boolean }>;
  readonly unaffectedSynced: string[];
  readonly recovered: ReadonlyArray<StatefulSetComparison & { readonly templateClaimSize: string }>;
}

/** How long the stage watches an Application after it compared the new commit. */
const OBSERVE_MS = 12_000;

export function applicationState(app: ArgoApplication | undefined): string {
  if (!app) return 'no Application';
  const s = app.status;
  const conditions = (s?.conditions ?? []).map((c) => `${c.type}${/field is immutable/.test(c.message ?? '') ? ' (field is immutable)' : ''}`);
  return `${s?.sync?.status ?? '?'}/${s?.health?.status ?? '?'}${conditions.length ? ` ${conditions.join(', ')}` : ''}`;
}

export async function claimTemplateSize(ctx: E2eContext, namespace: string): Promise<string> {
  const res = await ctx.plane.api(`/apis/apps/v1/namespaces/${namespace}/statefulsets/emqx`);
  if (res.status !== 200) return `HTTP ${res.status}`;
  const sts = JSON.parse(res.body) as { spec: { volumeClaimTemplates?: Array<{ spec: { resources?: { requests?: { storage?: string } } } }> } };
  return sts.spec.volumeClaimTemplates?.[0]?.spec.resources?.requests?.storage ?? 'none';
}

export async function claimSizeThroughArgoCd(ctx: E2eContext): Promise<ArgoImmutableReport> {
  const { plane } = ctx;
  const { commit, warnings } = await commitClaimSize(ctx, '20Gi');
  const affected = [...new Set(warnings.map((w) => w.overlay))];
  const unaffected = ctx.overlays.filter((o) => !affected.includes(o));
  const before = new Map<string, StatefulSetState>();
  for (const o of affected) before.set(o, await statefulSetState(ctx, statefulSetOf(o)));
  await ctx.repo.push();
  for (const o of ctx.overlays) await refreshApplication(plane, applicationOf(o), 'hard');

  // Every affected Application is watched at the same time, as a user's dashboard would show them.
  const observed = await Promise.all(affected.map((o) => observeApplication(ctx, o, commit)));
  await waitApplicationsSynced(ctx, unaffected.map(applicationOf), commit);

  // The remedy: orphan delete, then a refresh; auto-sync creates the StatefulSet with the new template.
  for (const o of affected) {
    const w = statefulSetOf(o);
    await plane.kubectlOk(['-n', w.namespace, 'delete', 'statefulset', w.name, '--cascade=orphan', '--wait=true']);
    await refreshApplication(plane, applicationOf(o), 'normal');
  }
  await waitApplicationsSynced(ctx, affected.map(applicationOf), commit);
  const recovered = [];
  for (const o of affected) {
    const w = statefulSetOf(o);
    await ctx.wait(`${describeWorkload(w)} re-created and Ready`, () => rolledOut(plane, w));
    recovered.push({ ...compareStatefulSet(w, before.get(o)!, await statefulSetState(ctx, w)), templateClaimSize: await claimTemplateSize(ctx, w.namespace) });
  }
  return { commit, diffWarnings: warnings, observed, unaffectedSynced: unaffected.map(applicationOf), recovered };
}

/** Every distinct state Argo CD reports for `overlay`'s Application once it compared `commit`, for OBSERVE_MS with one more refresh. */
async function observeApplication(ctx: E2eContext, overlay: string, commit: string): Promise<ArgoImmutableReport['observed'][number]> {
  const { plane } = ctx;
  const name = applicationOf(overlay);
  const states: string[] = [];
  const note = (app: ArgoApplication | undefined) => {
    const s = applicationState(app);
    if (states[states.length - 1] !== s) states.push(s);
  };
  await ctx.wait(`Application ${name} to compare ${commit.slice(0, 12)}`, async () => {
    const app = await getApplication(plane, name);
    return app?.status?.sync?.revision === commit ? true : `${applicationState(app)} at ${app?.status?.sync?.revision?.slice(0, 12) ?? 'nothing'}`;
  });
  const until = Date.now() + OBSERVE_MS;
  let refreshed = false;
  while (Date.now() < until) {
    note(await getApplication(plane, name));
    if (!refreshed && Date.now() > until - OBSERVE_MS / 2) {
      await refreshApplication(plane, name, 'normal');
      refreshed = true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const app = await getApplication(plane, name);
  return { application: name, states, liveClaimSize: await claimTemplateSize(ctx, `emqx-${overlay}`), syncedAtCommit: app?.status?.sync?.status === 'Synced' && app.status.sync.revision === commit };
}
