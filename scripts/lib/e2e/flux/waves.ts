// Waves with Flux, on two real clusters: two more ephemeral control planes, each running its own
// Flux bootstrapped from its folder gitops/flux/clusters/<name>, as a fleet's clusters are. The
// inventory is cut to two edge clusters, wave 1 and wave 2. Wave 1 follows `main`; wave 2 the
// branch fleet/wave-2, created once from main. Then:
//   1. a change reaches wave 1 and not wave 2 (whose Flux is asked to reconcile, and stays);
//   2. `npm run fleet -- promote --wave 2` moves fleet/wave-2 to what wave 1 runs, and wave 2
//      follows; promoting again has nothing to promote;
//   3. a change that leaves wave 1 unhealthy (a nodeSelector no node has) holds the rollout there:
//      promote refuses, naming the wave 1 cluster, and wave 2 keeps its commit and its pods.
// Promotion is the command a user runs, `npm run fleet -- promote` (e2e/commands.ts), with a
// kubeconfig whose contexts are named after the clusters, as a user's is.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { installPinnedCrds } from '../../tools/control-plane/crds.ts';
import { provisionPendingClaims } from '../../tools/control-plane/provisioner.ts';
import { startControlPlane, type ControlPlane } from '../../tools/control-plane/start.ts';
import { podsOf, rolledOut, templateConfigMaps, type WorkloadRef } from '../cluster.ts';
import { promoteWave, regenerateFleetFiles, type CommandResult } from '../commands.ts';
import type { E2eContext } from '../context.ts';
import { createOverlayPrerequisites } from '../prerequisites.ts';
import { E2E_BRANCH, E2E_REMOTE } from '../repository.ts';
import { commitOf, getGitRepository, getKustomization, readyCondition, requestReconcile, startFluxControllers, GIT_REPOSITORY } from './controllers.ts';

const OVERLAY = 'single-node';
const NAMESPACE = `emqx-${OVERLAY}`;
const WORKLOAD: WorkloadRef = { kind: 'StatefulSet', namespace: NAMESPACE, name: 'emqx' };
/** A setting both clusters render (the overlay's own env), so a push changes both. */
const SETTING = { key: 'EMQX_LOG__CONSOLE__FORMATTER', value: 'json' } as const;
/** A nodeSelector no kwok node has: the pod stays Pending, the StatefulSet never Ready. */
const NEVER_SCHEDULED = { 'emqx-gitops/e2e': 'no-such-node' };
/** How long wave 1 is left unhealthy before promote is asked (the Kustomization's timeout is 10 min). */
const UNHEALTHY_FOR_MS = 20_000;

export interface WaveCluster {
  readonly cluster: string;
  readonly wave: number;
  /** The branch its GitRepository follows. */
  readonly branch: string;
  /** The commit its Kustomization last applied, at each step. */
  readonly applied: string;
  readonly ready: boolean;
}

export interface FluxWavesReport {
  /** The two clusters after bootstrap. */
  readonly bootstrap: readonly WaveCluster[];
  /** A change to both clusters' render: wave 1 runs it, wave 2 does not (its Flux was asked to reconcile). */
  readonly change: { readonly commit: string; readonly wave1: WaveCluster; readonly wave2: WaveCluster; readonly wave2ConfigMaps: readonly string[]; readonly wave1ConfigMaps: readonly string[] };
  /** `promote --wave 2`: the branch moved to what wave 1 runs, and wave 2 then ran it. */
  readonly promotion: { readonly output: string; readonly branchAfter: string; readonly wave2: WaveCluster; readonly again: CommandResult };
  /** A change that leaves wave 1 unhealthy: promote refused, wave 2 untouched. */
  readonly unhealthy: {
    readonly commit: string;
    readonly wave1: { readonly ready: string; readonly lastAttempted: string };
    readonly refusal: CommandResult;
    readonly branchAfter: string;
    readonly wave2: WaveCluster;
    readonly wave2SamePods: boolean;
  };
}

/** A kubeconfig with one context per cluster, named after it: what promote reads clusters through. */
export async function fleetKubeconfig(file: string, planes: ReadonlyMap<string, ControlPlane>): Promise<void> {
  const clusters: unknown[] = [];
  const users: unknown[] = [];
  const contexts: unknown[] = [];
  for (const [name, plane] of planes) {
    clusters.push({ name, cluster: { server: plane.server, 'certificate-authority': plane.pki.caCert } });
    users.push({ name, user: { 'client-certificate': plane.pki.adminCert, 'client-key': plane.pki.adminKey } });
    contexts.push({ name, context: { cluster: name, user: name } });
  }
  await writeFile(file, stringify({ apiVersion: 'v1', kind: 'Config', clusters, users, contexts }), { mode: 0o600 });
}

/** Keeps two clusters of `OVERLAY` in the inventory, in waves 1 and 2; returns their names. */
async function cutToTwoWaves(ctx: E2eContext): Promise<[string, string]> {
  const file = path.join(ctx.repo.work, 'clusters', 'inventory.yaml');
  const doc = parseDocument(await readFile(file, 'utf8'));
  const entries = doc.toJS().clusters as Array<{ name: string; overlay: string; wave?: number }>;
  const [first, second] = entries.filter((c) => c.overlay === OVERLAY) as [(typeof entries)[number], (typeof entries)[number]];
  for (const c of entries) if (c !== first && c !== second) await rm(path.join(ctx.repo.work, 'clusters', c.name), { recursive: true, force: true });
  doc.set('clusters', doc.createNode([{ ...first, wave: 1 }, { ...second, wave: 2 }]));
  await writeFile(file, doc.toString());
  return [first.name, second.name];
}

/** The branch the cluster's GitRepository follows, as its Flux folder set it. */
async function followedBranch(plane: ControlPlane): Promise<string> {
  const res = await plane.api(`/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/${GIT_REPOSITORY}`);
  return (JSON.parse(res.body) as { spec?: { ref?: { branch?: string } } }).spec?.ref?.branch ?? '';
}

/**
 * The cluster's Kustomization once its Ready condition is settled (True or False). A reconcile that
 * a request queued while the last one ran sets Ready=Unknown for its health checks, seconds after
 * it was True: a single read could catch that and report a healthy cluster as not Ready.
 */
async function state(ctx: E2eContext, plane: ControlPlane, cluster: string, wave: number): Promise<WaveCluster> {
  let k: Awaited<ReturnType<typeof getKustomization>>;
  await ctx.wait(`${cluster}: Kustomization emqx-${cluster} Ready settled (True or False)`, async () => {
    k = await getKustomization(plane, `emqx-${cluster}`);
    const ready = readyCondition(k);
    return ready?.status === 'True' || ready?.status === 'False' ? true : `Ready=${ready?.status ?? '?'} (${ready?.reason ?? ''})`;
  });
  const branch = await followedBranch(plane);
  return { cluster, wave, branch, applied: commitOf(k?.status?.lastAppliedRevision) ?? '', ready: readyCondition(k)?.status === 'True' };
}

/** `flux reconcile kustomization emqx-<cluster> --with-source` on one cluster, and wait until it applied `commit`, Ready. */
async function reconcileTo(ctx: E2eContext, plane: ControlPlane, cluster: string, commit: string): Promise<void> {
  await requestReconcile(plane, 'gitrepository', GIT_REPOSITORY);
  await ctx.wait(`${cluster}: GitRepository emqx at ${commit.slice(0, 12)}`, async () => {
    const rev = (await getGitRepository(plane))?.status?.artifact?.revision;
    return commitOf(rev) === commit ? true : `artifact ${rev ?? 'none'}`;
  });
  for (const k of ['emqx-fleet-gitops', `emqx-${cluster}`]) await requestReconcile(plane, 'kustomization', k);
  await ctx.wait(`${cluster}: Kustomization emqx-${cluster} Ready at ${commit.slice(0, 12)}`, async () => {
    await provisionPendingClaims(plane);
    const k = await getKustomization(plane, `emqx-${cluster}`);
    const ready = readyCondition(k);
    return ready?.status === 'True' && commitOf(k?.status?.lastAppliedRevision) === commit ? true : `Ready=${ready?.status ?? '?'} at ${k?.status?.lastAppliedRevision ?? 'nothing'} (${ready?.message ?? ''})`;
  });
  await ctx.wait(`${cluster}: the broker rolled out`, () => rolledOut(plane, WORKLOAD));
}

/** Asks wave 2's Flux to fetch and apply now, then checks it still runs `commit` (its branch did not move). */
async function staysAt(ctx: E2eContext, plane: ControlPlane, cluster: string, commit: string): Promise<void> {
  await requestReconcile(plane, 'gitrepository', GIT_REPOSITORY);
  await requestReconcile(plane, 'kustomization', `emqx-${cluster}`);
  // Long enough for both controllers to act on the request (they do within a second or two here).
  await new Promise((r) => setTimeout(r, 5_000));
  const rev = commitOf((await getGitRepository(plane))?.status?.artifact?.revision);
  const applied = commitOf((await getKustomization(plane, `emqx-${cluster}`))?.status?.lastAppliedRevision);
  if (rev !== commit || applied !== commit) throw new Error(`${cluster} (wave 2) moved to ${rev?.slice(0, 12)} / ${applied?.slice(0, 12)} without a promotion; it should run ${commit.slice(0, 12)}`);
}

export async function fluxWavesOnTwoClusters(ctx: E2eContext): Promise<FluxWavesReport> {
  const [first, second] = await cutToTwoWaves(ctx);
  ctx.log(`  ${(await regenerateFleetFiles(ctx.repo.work)).length} fleet files regenerated: ${first} wave 1, ${second} wave 2`);
  const c0 = await ctx.repo.commit(`fleet: ${first} in wave 1, ${second} in wave 2`);
  await ctx.repo.push();

  const planes = new Map<string, ControlPlane>();
  try {
    // Both clusters at once: most of a start is waiting for servers to answer. allSettled, so that
    // a plane still starting when the other fails is in `planes` (and stopped) before we go on.
    const started = await Promise.allSettled(
      [first, second].map(async (name) => {
        const plane = await startControlPlane({ log: (l) => ctx.log(`  ${name}: ${l}`) });
        planes.set(name, plane);
        await installPinnedCrds(plane);
        await startFluxControllers(plane, ctx.waitMs);
        await createOverlayPrerequisites(plane, [OVERLAY]);
        await plane.kubectlOk(['apply', '-k', path.join(ctx.repo.work, 'gitops', 'flux', 'clusters', name)]);
      }),
    );
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [p1, p2] = [planes.get(first)!, planes.get(second)!];
    // Each later wave's branch is created once, from main (docs/fleet.md, "Waves"): the one wave 2's folder follows.
    const wave2Branch = await followedBranch(p2);
    if (wave2Branch === E2E_BRANCH || wave2Branch === '') throw new Error(`${second} (wave 2) follows "${wave2Branch}", not a branch of its own`);
    await ctx.repo.pushBranch(c0, wave2Branch);
    await Promise.all([reconcileTo(ctx, p1, first, c0), reconcileTo(ctx, p2, second, c0)]);
    const bootstrap = [await state(ctx, p1, first, 1), await state(ctx, p2, second, 2)];
    const podsBefore = async () => (await podsOf(p2, WORKLOAD)).map((p) => p.uid).sort().join();

    // 1. A change both clusters render reaches wave 1 only.
    await ctx.repo.edit(`overlays/${OVERLAY}/kustomization.yaml`, (t) => t.replace(/(\n(\s+)- EMQX_CLUSTER__DISCOVERY_STRATEGY=singleton\n)/, `$1$2- ${SETTING.key}=${SETTING.value}\n`));
    const c1 = await ctx.repo.commit(`single-node: ${SETTING.key}=${SETTING.value}`);
    await ctx.repo.push();
    await reconcileTo(ctx, p1, first, c1);
    await staysAt(ctx, p2, second, c0);
    const change = {
      commit: c1,
      wave1: await state(ctx, p1, first, 1),
      wave2: await state(ctx, p2, second, 2),
      wave1ConfigMaps: await templateConfigMaps(p1, WORKLOAD),
      wave2ConfigMaps: await templateConfigMaps(p2, WORKLOAD),
    };

    // 2. Promote wave 2 to what wave 1 runs.
    const kubeconfig = path.join(path.dirname(ctx.repo.work), 'fleet-kubeconfig');
    await fleetKubeconfig(kubeconfig, planes);
    const promote = () => promoteWave(ctx.repo.work, 2, kubeconfig, E2E_REMOTE);
    const promoted = await promote();
    if (promoted.exitCode !== 0) throw new Error(`npm run fleet -- promote --wave 2 failed (exit ${promoted.exitCode}):\n${promoted.stderr}`);
    await reconcileTo(ctx, p2, second, c1);
    const again = await promote();
    const promotion = { output: promoted.stdout.trim(), branchAfter: await ctx.repo.branchCommit(wave2Branch), wave2: await state(ctx, p2, second, 2), again };

    // 3. A change that never gets Ready on wave 1 holds the rollout there.
    const pods2 = await podsBefore();
    const patchFile = `overlays/${OVERLAY}/patches/statefulset-e2e-unschedulable.yaml`;
    await writeFile(
      path.join(ctx.repo.work, patchFile),
      stringify({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'emqx' }, spec: { template: { spec: { nodeSelector: NEVER_SCHEDULED } } } }),
    );
    await ctx.repo.edit(`overlays/${OVERLAY}/kustomization.yaml`, (t) => t.replace(/\npatches:\n/, `\npatches:\n  - path: patches/statefulset-e2e-unschedulable.yaml\n`));
    const c2 = await ctx.repo.commit('single-node: a nodeSelector no node has (wave 1 never gets Ready)');
    await ctx.repo.push();
    await requestReconcile(p1, 'gitrepository', GIT_REPOSITORY);
    await ctx.wait(`${first}: Kustomization emqx-${first} to attempt ${c2.slice(0, 12)}`, async () => {
      await requestReconcile(p1, 'kustomization', `emqx-${first}`).catch(() => undefined);
      const k = await getKustomization(p1, `emqx-${first}`);
      return commitOf(k?.status?.lastAttemptedRevision) === c2 ? true : `attempted ${k?.status?.lastAttemptedRevision ?? 'nothing'}`;
    });
    await new Promise((r) => setTimeout(r, UNHEALTHY_FOR_MS));
    const k1 = await getKustomization(p1, `emqx-${first}`);
    const r1 = readyCondition(k1);
    const refusal = await promote();
    await staysAt(ctx, p2, second, c1);
    return {
      bootstrap,
      change,
      promotion,
      unhealthy: {
        commit: c2,
        wave1: { ready: `${r1?.status ?? '?'} (${r1?.reason ?? ''}) ${r1?.message ?? ''}`.trim(), lastAttempted: commitOf(k1?.status?.lastAttemptedRevision) ?? '' },
        refusal,
        branchAfter: await ctx.repo.branchCommit(wave2Branch),
        wave2: await state(ctx, p2, second, 2),
        wave2SamePods: (await podsBefore()) === pods2,
      },
    };
  } finally {
    for (const plane of planes.values()) await plane.stop();
  }
}
