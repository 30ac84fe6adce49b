// The fleet on Argo CD, on two clusters: the hub (Argo CD's own, `https://kubernetes.default.svc`)
// and a second ephemeral control plane registered as an Argo CD cluster Secret (its server on
// 127.0.0.1). The inventory is cut to two edge clusters aimed at those servers, as a fleet's own
// inventory would be, `npm run fleet -- generate` writes gitops/argocd/fleet from it, and
// `kubectl apply -k gitops/argocd/fleet` deploys each cluster's Application to its own cluster.
// Then two pushes roll out in waves (waves.ts), and one cluster leaves the inventory: with
// `applicationsSync: create-update` its Application and its brokers stay.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { ARGOCD_NAMESPACE } from '../../tools/control-plane/argocd.ts';
import { startControlPlane, type ControlPlane } from '../../tools/control-plane/start.ts';
import { toKubectlInput } from '../../tools/kubectl.ts';
import { describeWorkload, describeWorkloads, podsOf, rolledOut, type WorkloadRef } from '../cluster.ts';
import { regenerateFleetFiles } from '../commands.ts';
import type { E2eContext } from '../context.ts';
import { createOverlayPrerequisites } from '../prerequisites.ts';
import { applicationState } from './claim-size.ts';
import { getApplication, refreshApplication } from './applications.ts';
import { waitApplicationsSynced } from './sync.ts';
import { wavesThroughArgoCd, type ArgoWavesReport } from './waves.ts';

/** Argo CD's name for the cluster it runs in. */
export const IN_CLUSTER = 'https://kubernetes.default.svc';
const OVERLAY = 'single-node';
// (Edge clusters of the example fleet keep their data on a claim: components/persistence.)

export interface FleetReport {
  readonly commit: string;
  readonly clusters: ReadonlyArray<{ readonly cluster: string; readonly server: string; readonly application: string; readonly destination: string; readonly sync: string; readonly health: string; readonly workload: string; readonly readyPods: number }>;
  /** The two clusters in waves 1 and 2 with progressive syncs (waves.ts). */
  readonly waves: ArgoWavesReport;
  /** The cluster taken out of the inventory, and what stayed. */
  readonly removed: { readonly commit: string; readonly cluster: string; readonly applicationKept: boolean; readonly state: string; readonly samePods: boolean; readonly ready: boolean };
}

/** The cluster Secret `argocd cluster add` writes, for a plane reached with its admin certificate. */
export async function clusterSecret(name: string, plane: ControlPlane): Promise<unknown> {
  const b64 = async (file: string) => Buffer.from(await readFile(file)).toString('base64');
  const config = { tlsClientConfig: { caData: await b64(plane.pki.caCert), certData: await b64(plane.pki.adminCert), keyData: await b64(plane.pki.adminKey) } };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `cluster-${name}`, namespace: ARGOCD_NAMESPACE, labels: { 'argocd.argoproj.io/secret-type': 'cluster' } },
    type: 'Opaque',
    stringData: { name, server: plane.server, config: JSON.stringify(config) },
  };
}

/** Keeps only `servers`' clusters in the inventory, each aimed at its server and in the wave of its place in `servers`, and removes the others' directories. */
async function cutInventory(ctx: E2eContext, servers: ReadonlyMap<string, string>): Promise<void> {
  const file = path.join(ctx.repo.work, 'clusters', 'inventory.yaml');
  const doc = parseDocument(await readFile(file, 'utf8'));
  const clusters = doc.toJS().clusters as Array<{ name: string }>;
  for (const c of clusters) if (!servers.has(c.name)) await rm(path.join(ctx.repo.work, 'clusters', c.name), { recursive: true, force: true });
  // Waves in the order of `servers` (1, 2, ...): the shipped waves of two edge sites that are kept
  // could leave wave 1 empty, which the inventory refuses.
  const order = [...servers.keys()];
  const kept = clusters.filter((c) => servers.has(c.name)).map((c) => ({ ...c, server: servers.get(c.name)!, wave: order.indexOf(c.name) + 1 }));
  doc.set('clusters', doc.createNode(kept));
  await writeFile(file, doc.toString());
}

export async function fleetOnTwoClusters(ctx: E2eContext): Promise<FleetReport> {
  const { plane: hub } = ctx;
  // The hub's single-node overlay Application would share its namespace with the fleet's: remove it
  // (its finalizer prunes what it deployed) so that the fleet's Application owns emqx-single-node.
  await hub.kubectlOk(['-n', ARGOCD_NAMESPACE, 'delete', 'application', `emqx-${OVERLAY}`, '--ignore-not-found', '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 });
  const spoke = await startControlPlane({ log: (l) => ctx.log(`  second cluster: ${l}`) });
  try {
    // No CRDs there: an edge cluster's single-node overlay renders only built-in kinds.
    const inventory = parseDocument(await readFile(path.join(ctx.repo.work, 'clusters', 'inventory.yaml'), 'utf8')).toJS() as { clusters: Array<{ name: string; overlay: string }> };
    const [onHub, onSpoke] = inventory.clusters.filter((c) => c.overlay === OVERLAY).map((c) => c.name) as [string, string];
    const servers = new Map([
      [onHub, IN_CLUSTER],
      [onSpoke, spoke.server],
    ]);
    await cutInventory(ctx, servers);
    ctx.log(`  ${(await regenerateFleetFiles(ctx.repo.work)).length} fleet files regenerated for ${onHub} (${IN_CLUSTER}) and ${onSpoke} (${spoke.server})`);
    await createOverlayPrerequisites(spoke, [OVERLAY]);
    await hub.kubectlOk(['apply', '-f', '-'], { input: toKubectlInput([await clusterSecret(onSpoke, spoke)]) });
    const commit = await ctx.repo.commit(`fleet: ${onHub} on the hub, ${onSpoke} on a second cluster`);
    await ctx.repo.push();
    await hub.kubectlOk(['apply', '-k', path.join(ctx.repo.work, 'gitops', 'argocd', 'fleet')]);
    const apps = [onHub, onSpoke].map((c) => `emqx-${c}`);
    try {
      await waitApplicationsSynced(ctx, apps, commit, new Set(), [spoke]);
    } catch (error) {
      // The stage's report describes the hub; say what the second cluster runs too.
      throw new Error(`${error instanceof Error ? error.message : String(error)}\nThe second cluster's workloads:\n${await describeWorkloads(spoke)}\nThe end of its kwok log:\n${spoke.logTail('kwok', 8)}`);
    }
    const planeOf = (cluster: string) => (cluster === onSpoke ? spoke : hub);
    const workload: WorkloadRef = { kind: 'StatefulSet', namespace: `emqx-${OVERLAY}`, name: 'emqx' };
    const clusters = [];
    for (const c of [onHub, onSpoke]) {
      await ctx.wait(`${describeWorkload(workload)} on ${c} to have every replica Ready`, () => rolledOut(planeOf(c), workload));
      const app = await getApplication(hub, `emqx-${c}`);
      clusters.push({
        cluster: c,
        server: servers.get(c)!,
        application: `emqx-${c}`,
        destination: app?.spec.destination.server ?? '',
        sync: app?.status?.sync?.status ?? '',
        health: app?.status?.health?.status ?? '',
        workload: describeWorkload(workload),
        readyPods: (await podsOf(planeOf(c), workload)).filter((p) => p.ready && !p.terminating).length,
      });
    }

    // The hub's cluster is wave 1 and the spoke's wave 2 (cutInventory): roll changes out in waves.
    const waves = await wavesThroughArgoCd(ctx, spoke, onHub, onSpoke);

    // The spoke leaves the inventory; emqx-fleet-gitops syncs the regenerated ApplicationSet.
    const podsBefore = (await podsOf(spoke, workload)).map((p) => p.uid).sort();
    await cutInventory(ctx, new Map([[onHub, IN_CLUSTER]]));
    await regenerateFleetFiles(ctx.repo.work);
    const removedAt = await ctx.repo.commit(`fleet: ${onSpoke} leaves the inventory`);
    await ctx.repo.push();
    await refreshApplication(hub, 'emqx-fleet-gitops');
    await ctx.wait(`ApplicationSet emqx-fleet to list only ${onHub}`, async () => {
      const res = await hub.api(`/apis/argoproj.io/v1alpha1/namespaces/${ARGOCD_NAMESPACE}/applicationsets/emqx-fleet`);
      const list = (JSON.parse(res.body) as { spec?: { generators?: Array<{ list?: { elements?: Array<{ cluster: string }> } }> } }).spec?.generators?.[0]?.list?.elements?.map((e) => e.cluster) ?? [];
      return list.join() === onHub ? true : `lists ${list.join(', ')}`;
    });
    // Longer than the ApplicationSet controller needs to act on the new list.
    await new Promise((r) => setTimeout(r, 10_000));
    const app = await getApplication(hub, `emqx-${onSpoke}`);
    const podsAfter = (await podsOf(spoke, workload)).map((p) => p.uid).sort();
    return {
      commit,
      clusters,
      waves,
      removed: {
        commit: removedAt,
        cluster: onSpoke,
        applicationKept: app !== undefined && !app.metadata.deletionTimestamp,
        state: applicationState(app),
        samePods: podsAfter.join() === podsBefore.join(),
        ready: (await rolledOut(spoke, workload)) === true,
      },
    };
  } finally {
    await spoke.stop();
  }
}
