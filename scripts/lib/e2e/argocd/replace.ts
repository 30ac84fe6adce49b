// What Argo CD's own answers to an immutable field really do here: the sync options `Replace=true`
// and `Force=true,Replace=true` on the StatefulSet, in git, as a user would write them, with a new
// claim size, followed by a sync as `argocd app sync` starts one (an `operation` on the
// Application). The stage asserts nothing itself: it records what Argo CD reported, what the sync
// operation ended with, and what happened to the StatefulSet, its pods and its claims.
import { ARGOCD_NAMESPACE } from '../../tools/control-plane/argocd.ts';
import { describeWorkload, rolledOut, workloadUid } from '../cluster.ts';
import type { E2eContext } from '../context.ts';
import { statefulSetOf } from '../pushes.ts';
import { compareStatefulSet, statefulSetState, type StatefulSetComparison } from '../statefulset-state.ts';
import { getApplication, refreshApplication } from './applications.ts';
import { applicationState, claimTemplateSize } from './claim-size.ts';
import { applicationOf } from './sync.ts';

export type ReplaceOption = 'Replace=true' | 'Force=true,Replace=true';

export interface ReplaceTry extends StatefulSetComparison {
  readonly option: ReplaceOption;
  readonly commit: string;
  /** What the Application showed after the push and a hard refresh. */
  readonly stateAfterPush: string;
  readonly operationPhase: string;
  readonly operationMessage: string;
  readonly templateClaimSize: string;
}

const patchFor = (option: ReplaceOption, size: string) => `patches:
  - target: {kind: StatefulSet, name: emqx}
    patch: |-
      - op: replace
        path: /spec/volumeClaimTemplates/0/spec/resources/requests/storage
        value: ${size}
      - op: add
        path: /metadata/annotations/argocd.argoproj.io~1sync-options
        value: ${option}
`;

/** The overlay the tries run on: production when it is deployed (as Flux's force stage does). */
export function replaceOverlay(overlays: readonly string[]): string {
  return overlays.includes('production') ? 'production' : overlays.find((o) => o !== 'single-node' && o !== 'deployment-ip')!;
}

export async function tryReplaceOption(ctx: E2eContext, option: ReplaceOption, size: string): Promise<ReplaceTry> {
  const { plane } = ctx;
  const overlay = replaceOverlay(ctx.overlays);
  const w = statefulSetOf(overlay);
  const name = applicationOf(overlay);
  const before = await statefulSetState(ctx, w);
  const file = `overlays/${overlay}/kustomization.yaml`;
  // Each try replaces the previous try's patch: the kustomization ends with exactly one.
  await ctx.repo.edit(file, (t) => `${t.replace(/\npatches:\n {2}- target: \{kind: StatefulSet, name: emqx\}[\s\S]*$/, '').trimEnd()}\n${patchFor(option, size)}`);
  const commit = await ctx.repo.commit(`${overlay}: claims of ${size}, synced with ${option}`);
  await ctx.repo.push();
  await refreshApplication(plane, name, 'hard');
  await ctx.wait(`Application ${name} to compare ${commit.slice(0, 12)}`, async () => {
    const app = await getApplication(plane, name);
    return app?.status?.sync?.revision === commit ? true : `${applicationState(app)} at ${app?.status?.sync?.revision?.slice(0, 12) ?? 'nothing'}`;
  });
  const stateAfterPush = applicationState(await getApplication(plane, name));
  // `argocd app sync` creates exactly this: an operation the application-controller runs once.
  const started = new Date().toISOString();
  const operation = { operation: { initiatedBy: { username: 'e2e' }, sync: { revision: commit, prune: true, syncOptions: ['ServerSideApply=true'] } } };
  await plane.kubectlOk(['-n', ARGOCD_NAMESPACE, 'patch', `applications.argoproj.io/${name}`, '--type=merge', '-p', JSON.stringify(operation)]);
  let phase = '';
  let message = '';
  await ctx.wait(`the sync operation of ${name} (${option}) to end`, async () => {
    const app = await getApplication(plane, name);
    const op = app?.status?.operationState as { phase?: string; message?: string; startedAt?: string } | undefined;
    if (!op || !op.startedAt || op.startedAt < started.slice(0, 19) || !['Succeeded', 'Failed', 'Error'].includes(op.phase ?? '')) return `operation ${op?.phase ?? 'not started'}: ${op?.message ?? ''}`;
    phase = op.phase ?? '';
    message = op.message ?? '';
    return true;
  });
  // A delete-and-recreate takes the pods with it: wait for the StatefulSet to settle before comparing.
  await ctx.wait(`${w.namespace}/emqx to exist again after the sync`, async () => ((await plane.api(`/apis/apps/v1/namespaces/${w.namespace}/statefulsets/emqx`)).status === 200 ? true : 'no StatefulSet'));
  if (((await workloadUid(plane, w)) ?? before.uid) !== before.uid) await ctx.wait(`${describeWorkload(w)} recreated and Ready`, () => rolledOut(plane, w));
  const after = await statefulSetState(ctx, w);
  return { option, commit, stateAfterPush, operationPhase: phase, operationMessage: message, templateClaimSize: await claimTemplateSize(ctx, w.namespace), ...compareStatefulSet(w, before, after) };
}
