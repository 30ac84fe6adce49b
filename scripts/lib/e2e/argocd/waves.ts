// The fleet's waves on Argo CD, observed on two clusters: the ApplicationSet `npm run fleet --
// generate` writes (strategy RollingSync, one step per wave on the label emqx-gitops/wave), with
// the applicationset-controller started with --enable-progressive-syncs (engine.ts). Run inside the
// fleet stage (fleet.ts), once both clusters' Applications are Synced and Healthy:
//   1. what the controller makes of the template's automated sync;
//   2. a setting both clusters render reaches wave 1, and wave 2's sync starts only once wave 1 is
//      Healthy (the operation's start against the ApplicationSet's Healthy transition, server times);
//   3. a change that leaves wave 1 unhealthy (a nodeSelector no kwok node has) holds wave 2 at the
//      commit it runs: OutOfSync, not synced, the same pods. Last, as in the Flux run: a StatefulSet
//      whose pod never schedules does not roll back by itself.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { ARGOCD_NAMESPACE } from '../../tools/control-plane/argocd.ts';
import { provisionPendingClaims } from '../../tools/control-plane/provisioner.ts';
import type { ControlPlane } from '../../tools/control-plane/start.ts';
import { podsOf, type WorkloadRef } from '../cluster.ts';
import type { E2eContext } from '../context.ts';
import { describeApplication, getApplication, refreshApplication, type ArgoApplication } from './applications.ts';

const OVERLAY = 'single-node';
const WORKLOAD: WorkloadRef = { kind: 'StatefulSet', namespace: `emqx-${OVERLAY}`, name: 'emqx' };
/** A setting both clusters render (the overlay's own env), so a push changes both. */
const SETTING = { key: 'EMQX_LOG__CONSOLE__FORMATTER', value: 'json' } as const;
/** A nodeSelector no kwok node has: the pod stays Pending, the StatefulSet never Healthy. */
const NEVER_SCHEDULED = { 'emqx-gitops/e2e': 'no-such-node' };
/** How long wave 1 is left unhealthy before wave 2 is looked at again. */
const HOLD_MS = 30_000;
const FLEET_APPSET = 'emqx-fleet';

/** One Application as the ApplicationSet's progressive-sync status lists it. */
export interface ProgressiveStatus {
  readonly application: string;
  readonly status: string;
  readonly step: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
}

export interface WaveApplication {
  readonly application: string;
  /** The commit the cluster runs: the last entry of status.history. */
  readonly deployed: string;
  readonly sync: string;
  readonly health: string;
  readonly progressive: string;
}

export interface ArgoWavesReport {
  /** spec.syncPolicy.automated of each generated Application, as the controller wrote it. */
  readonly automated: { readonly wave1: unknown; readonly wave2: unknown };
  readonly change: {
    readonly commit: string;
    /** Wave 2 when wave 1 was first seen running the change. */
    readonly wave2WhenWave1Deployed: WaveApplication;
    /** When the ApplicationSet marked wave 1 Healthy at the change, and when wave 2's sync started (server times). */
    readonly wave1HealthyAt: string;
    readonly wave2SyncStartedAt: string;
    readonly wave1: WaveApplication;
    readonly wave2: WaveApplication;
  };
  readonly unhealthy: { readonly commit: string; readonly heldForSeconds: number; readonly wave1: WaveApplication; readonly wave2: WaveApplication; readonly wave2SamePods: boolean };
}

const deployedOf = (app: ArgoApplication | undefined) => app?.status?.history?.at(-1)?.revision ?? '';

async function progressiveStatuses(hub: ControlPlane): Promise<ProgressiveStatus[]> {
  const res = await hub.api(`/apis/argoproj.io/v1alpha1/namespaces/${ARGOCD_NAMESPACE}/applicationsets/${FLEET_APPSET}`);
  if (res.status !== 200) throw new Error(`GET ApplicationSet ${FLEET_APPSET}: HTTP ${res.status}`);
  return (JSON.parse(res.body) as { status?: { applicationStatus?: ProgressiveStatus[] } }).status?.applicationStatus ?? [];
}

async function waveApplication(hub: ControlPlane, name: string): Promise<WaveApplication> {
  const [app, statuses] = await Promise.all([getApplication(hub, name), progressiveStatuses(hub)]);
  const p = statuses.find((s) => s.application === name);
  return { application: name, deployed: deployedOf(app), sync: app?.status?.sync?.status ?? '', health: app?.status?.health?.status ?? '', progressive: p ? `${p.status} (step ${p.step})` : 'none' };
}

const line = (w: WaveApplication) => `${w.application}: runs ${w.deployed.slice(0, 12) || 'nothing'}, ${w.sync}/${w.health}, progressive ${w.progressive}`;

export async function wavesThroughArgoCd(ctx: E2eContext, spoke: ControlPlane, wave1: string, wave2: string): Promise<ArgoWavesReport> {
  const hub = ctx.plane;
  const [app1, app2] = [`emqx-${wave1}`, `emqx-${wave2}`];
  const automated = { wave1: (await getApplication(hub, app1))?.spec.syncPolicy?.automated, wave2: (await getApplication(hub, app2))?.spec.syncPolicy?.automated };
  const push = async (message: string) => {
    const commit = await ctx.repo.commit(message);
    await ctx.repo.push();
    for (const a of [app1, app2]) await refreshApplication(hub, a);
    return commit;
  };

  // 2. A setting both clusters render: wave 1 first, wave 2 once wave 1 is Healthy.
  await ctx.repo.edit(`overlays/${OVERLAY}/kustomization.yaml`, (t) => t.replace(/(\n(\s+)- EMQX_CLUSTER__DISCOVERY_STRATEGY=singleton\n)/, `$1$2- ${SETTING.key}=${SETTING.value}\n`));
  const c1 = await push(`single-node: ${SETTING.key}=${SETTING.value}`);
  let wave2WhenWave1Deployed: WaveApplication | undefined;
  await ctx.wait(`${app1} (wave 1), then ${app2} (wave 2), to run ${c1.slice(0, 12)}, Synced and Healthy`, async () => {
    for (const p of [hub, spoke]) await provisionPendingClaims(p);
    const [a1, a2] = [await getApplication(hub, app1), await getApplication(hub, app2)];
    if (!wave2WhenWave1Deployed && deployedOf(a1) === c1) wave2WhenWave1Deployed = await waveApplication(hub, app2);
    // And the ApplicationSet's own status says so: it is updated on its next reconcile, after the Application's.
    const progressive = await progressiveStatuses(hub);
    const done = (a: ArgoApplication | undefined, name: string) =>
      deployedOf(a) === c1 && a?.status?.sync?.status === 'Synced' && a.status.health?.status === 'Healthy' && progressive.find((p) => p.application === name)?.status === 'Healthy';
    return done(a1, app1) && done(a2, app2) ? true : [a1, a2].map((a) => (a ? `${describeApplication(a).trim()} (progressive: ${progressive.find((p) => p.application === a.metadata.name)?.status ?? 'none'})` : 'missing')).join('; ');
  });
  const statuses = await progressiveStatuses(hub);
  const wave1HealthyAt = statuses.find((s) => s.application === app1)?.lastTransitionTime ?? '';
  const wave2SyncStartedAt = (await getApplication(hub, app2))?.status?.operationState?.startedAt ?? '';
  const change = { commit: c1, wave2WhenWave1Deployed: wave2WhenWave1Deployed!, wave1HealthyAt, wave2SyncStartedAt, wave1: await waveApplication(hub, app1), wave2: await waveApplication(hub, app2) };
  ctx.log(`  wave 1 Healthy at ${wave1HealthyAt}, wave 2's sync started at ${wave2SyncStartedAt}; when wave 1 first ran the change: ${line(change.wave2WhenWave1Deployed)}`);

  // 3. A change that never gets Healthy on wave 1 holds wave 2.
  const podsBefore = (await podsOf(spoke, WORKLOAD)).map((p) => p.uid).sort().join();
  const patchFile = `overlays/${OVERLAY}/patches/statefulset-e2e-unschedulable.yaml`;
  await writeFile(path.join(ctx.repo.work, patchFile), stringify({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'emqx' }, spec: { template: { spec: { nodeSelector: NEVER_SCHEDULED } } } }));
  await ctx.repo.edit(`overlays/${OVERLAY}/kustomization.yaml`, (t) => t.replace(/\npatches:\n/, `\npatches:\n  - path: patches/statefulset-e2e-unschedulable.yaml\n`));
  const c2 = await push('single-node: a nodeSelector no node has (wave 1 never gets Healthy)');
  await ctx.wait(`${app1} (wave 1) to run ${c2.slice(0, 12)}`, async () => {
    const a1 = await getApplication(hub, app1);
    return deployedOf(a1) === c2 ? true : a1 ? describeApplication(a1).trim() : 'missing';
  });
  const heldFrom = Date.now();
  await new Promise((r) => setTimeout(r, HOLD_MS));
  // Still OutOfSync at the end of the hold, not just in a gap between refreshes: ask once more.
  await refreshApplication(hub, app2);
  await ctx.wait(`${app2} (wave 2) to have compared ${c2.slice(0, 12)}`, async () => {
    const a2 = await getApplication(hub, app2);
    return a2?.status?.sync?.revision === c2 ? true : a2 ? describeApplication(a2).trim() : 'missing';
  });
  const unhealthy = {
    commit: c2,
    heldForSeconds: Math.round((Date.now() - heldFrom) / 1000),
    wave1: await waveApplication(hub, app1),
    wave2: await waveApplication(hub, app2),
    wave2SamePods: (await podsOf(spoke, WORKLOAD)).map((p) => p.uid).sort().join() === podsBefore,
  };
  ctx.log(`  after ${unhealthy.heldForSeconds} s: ${line(unhealthy.wave1)}; ${line(unhealthy.wave2)}`);
  return { automated, change, unhealthy };
}
