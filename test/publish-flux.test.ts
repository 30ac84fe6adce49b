// The edge-site path end to end: `npm run publish` pushes a cluster's artifact to a real registry,
// and the pinned source-controller and kustomize-controller on an ephemeral control plane pull it
// (OCIRepository at the wave tag, Kustomization of ./, both as `npm run fleet -- generate` writes them
// for an inventory entry with `oci:`) and apply the same objects as the Git path
// (GitRepository over HTTP, Kustomization of ./clusters/<name>) does for the same working tree;
// then promotion by wave tag: a publish moves only what wave 1's site pulls, `fleet promote` the rest.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FLUX_NAMESPACE, getKustomization, readyCondition, type Condition, type FluxKustomization } from '../scripts/lib/e2e/flux/controllers.ts';
import { startFluxControllers } from '../scripts/lib/e2e/flux/controllers.ts';
import { readInventory, type Cluster } from '../scripts/lib/fleet/inventory.ts';
import { publish, type PublishedCluster } from '../scripts/lib/publish/run.ts';
import { promoteWave } from '../scripts/lib/e2e/commands.ts';
import { fleetKubeconfig } from '../scripts/lib/e2e/flux/waves.ts';
import { BARE_NAME, createTestRepository, E2E_BRANCH, E2E_REMOTE } from '../scripts/lib/e2e/repository.ts';
import { waveTag } from '../scripts/lib/publish/artifact.ts';
import { installPinnedCrds } from '../scripts/lib/tools/control-plane/crds.ts';
import type { Server } from '../scripts/lib/tools/control-plane/processes.ts';
import { startControlPlane, type ControlPlane } from '../scripts/lib/tools/control-plane/start.ts';
import { serveGitOverHttp, type GitHttpServer } from '../scripts/lib/tools/git-http.ts';
import { startRegistry, type RunningRegistry } from '../scripts/lib/tools/registry.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { findKustomize, kustomizeBuild } from '../scripts/lib/tools/kustomize.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';
import { ociFleetCopy } from './helpers/oci-fleet.ts';
import { parseObjects } from './helpers/render.ts';
import { CONTROL_PLANE_BINARIES, describeWithControlPlane, FLUX_BINARIES } from './helpers/control-plane.ts';
import { describeWithRegistry, tagDigest } from './helpers/registry.ts';
import { runScript } from './helpers/run.ts';

const CLUSTER = 'factory-lyon';
/** Where each path applies: the Git path into the namespace the fleet gives the cluster, the OCI path beside it. */
const OCI_NAMESPACE = 'emqx-oci-path';
const WAIT_MS = 180_000;

interface OciRepository {
  readonly status?: { readonly conditions?: readonly Condition[]; readonly artifact?: { readonly revision?: string; readonly digest?: string; readonly metadata?: Record<string, string> } };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const result = await probe();
    if (typeof result !== 'string') return result;
    last = result;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s; last seen: ${last}`);
}

/** A Kustomization's inventory as `group/kind/name`, without the namespace the two paths differ in. */
const objectsOf = (k: FluxKustomization) => (k.status?.inventory?.entries ?? []).map((e) => e.id.split('_')).map(([, name, group, kind]) => `${group}/${kind}/${name}`).sort();

describeWithRegistry('publish -> Flux pull', () => {
  describeWithControlPlane(
    'an edge site pulls its artifact from the registry',
    () => {
      let registry: RunningRegistry;
      let cp: ControlPlane;
      let controllers: Server[];
      let server: GitHttpServer;
      let dir: string;
      let repo: Awaited<ReturnType<typeof createTestRepository>>;

      beforeAll(async () => {
        dir = await mkdtemp(path.join(os.tmpdir(), 'emqx-publish-flux-'));
        registry = await startRegistry();
        repo = await createTestRepository(REPO_ROOT, dir);
        await repo.commit('the working tree, for the Git path');
        await repo.push();
        server = await serveGitOverHttp(repo.projectRoot);
        cp = await startControlPlane();
        await installPinnedCrds(cp);
        controllers = await startFluxControllers(cp, WAIT_MS);
      }, 2 * WAIT_MS);

      afterAll(async () => {
        await cp?.stop();
        await server?.stop();
        await registry?.stop();
        if (dir) await rm(dir, { recursive: true, force: true });
      });

      it('goes Ready at the pushed digest and applies the objects the Git path applies', { timeout: 2 * WAIT_MS }, async () => {
        expect(controllers.map((s) => s.name)).toEqual(['source-controller', 'kustomize-controller']);
        const fleet = readInventory().clusters;
        const cluster = fleet.find((c) => c.name === CLUSTER)!;
        const wave = waveTag(cluster, fleet);
        const published = await runScript('publish.ts', ['--registry', `${registry.host}/edge`, '--plain-http', CLUSTER]);
        expect(published.exitCode, published.stderr).toBe(0);
        const digest = /^ {2}digest: (sha256:[0-9a-f]{64})/m.exec(published.stdout)![1]!;

        for (const ns of [cluster.namespace, OCI_NAMESPACE]) await cp.kubectlOk(['create', 'namespace', ns]);
        // The site's folder as `npm run fleet -- generate` writes it for an entry with
        // `oci: {registry: <this registry>/edge, insecure: true}`: its OCIRepository as it is, and
        // its Kustomization beside the Git path's (another name and namespace, no wait: both apply).
        const copy = await ociFleetCopy(await mkdtemp(path.join(dir, 'oci-fleet-')), { [CLUSTER]: { registry: `${registry.host}/edge`, insecure: true } });
        const built = await kustomizeBuild(await findKustomize(), path.join(copy, 'gitops', 'flux', 'clusters', CLUSTER));
        expect(built.ok).toBe(true);
        const generated = parseObjects(built.ok ? built.yaml : '');
        const ociRepository = generated.find((o) => o.kind === 'OCIRepository')!;
        expect(ociRepository).toMatchObject({ metadata: { name: `emqx-${CLUSTER}` }, spec: { url: `oci://${registry.host}/edge/${CLUSTER}`, ref: { tag: wave }, insecure: true } });
        const siteKustomization = generated.find((o) => o.kind === 'Kustomization')! as K8sObject & { spec: Record<string, unknown> };
        expect(siteKustomization.spec).toMatchObject({ path: './', sourceRef: { kind: 'OCIRepository', name: `emqx-${CLUSTER}` } });
        const objects = [
          ociRepository,
          { ...siteKustomization, metadata: { ...siteKustomization.metadata, name: `emqx-${CLUSTER}-oci` }, spec: { ...siteKustomization.spec, targetNamespace: OCI_NAMESPACE, wait: false, timeout: '2m' } },
          {
            apiVersion: 'source.toolkit.fluxcd.io/v1',
            kind: 'GitRepository',
            metadata: { name: 'emqx', namespace: FLUX_NAMESPACE },
            spec: { interval: '1m', url: server.urlOf(BARE_NAME), ref: { branch: E2E_BRANCH } },
          },
          {
            apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
            kind: 'Kustomization',
            metadata: { name: `emqx-${CLUSTER}`, namespace: FLUX_NAMESPACE },
            spec: { interval: '10m', path: `./${cluster.path}`, prune: true, wait: false, timeout: '2m', targetNamespace: cluster.namespace, sourceRef: { kind: 'GitRepository', name: 'emqx' } },
          },
        ];
        await cp.kubectlOk(['apply', '-f', '-'], { input: objects.map((o) => JSON.stringify(o)).join('\n---\n') });

        const expectedRevision = `${wave}@${digest}`;
        const oci = await until('OCIRepository Ready at the pushed digest', WAIT_MS, async () => {
          const res = await cp.api(`/apis/source.toolkit.fluxcd.io/v1/namespaces/${FLUX_NAMESPACE}/ocirepositories/emqx-${CLUSTER}`);
          const repo = JSON.parse(res.body) as OciRepository;
          const ready = readyCondition(repo);
          return ready?.status === 'True' && repo.status?.artifact?.revision === expectedRevision ? repo : `Ready=${ready?.status} ${ready?.message ?? ''} [${repo.status?.artifact?.revision ?? 'no artifact'}]`;
        });
        expect(oci.status?.artifact?.metadata?.['org.opencontainers.image.revision']).toMatch(/@sha1:[0-9a-f]{40}$/);

        const [viaOci, viaGit] = await until('both Kustomizations Ready', WAIT_MS, async () => {
          const pair = [await getKustomization(cp, `emqx-${CLUSTER}-oci`), await getKustomization(cp, `emqx-${CLUSTER}`)];
          const states = pair.map((k) => `${k?.metadata.name}: Ready=${readyCondition(k)?.status} ${readyCondition(k)?.message ?? ''} [${k?.status?.lastAppliedRevision ?? ''}]`);
          return pair.every((k) => readyCondition(k)?.status === 'True' && k?.status?.lastAppliedRevision) ? (pair as FluxKustomization[]) : states.join('; ');
        });
        expect(viaOci!.status?.lastAppliedRevision).toBe(expectedRevision);
        expect(viaGit!.status?.lastAppliedRevision).toMatch(new RegExp(`^${E2E_BRANCH}@sha1:[0-9a-f]{40}$`));
        expect(objectsOf(viaOci!)).toEqual(objectsOf(viaGit!));
        expect(objectsOf(viaOci!)).toHaveLength(Number(/, (\d+) objects/.exec(published.stdout)![1]));
        // Not only the same names: the same content, e.g. the broker's configuration.
        const configMaps = async (ns: string) =>
          ((JSON.parse((await cp.api(`/api/v1/namespaces/${ns}/configmaps`)).body) as { items: Array<{ metadata: { name: string }; data?: Record<string, string> }> }).items)
            .filter((c) => c.metadata.name !== 'kube-root-ca.crt')
            .map((c) => ({ name: c.metadata.name, data: c.data }));
        expect(await configMaps(OCI_NAMESPACE)).toEqual(await configMaps(cluster.namespace));
      });

      // Each site follows its own repository's `wave-<N>` tag. A publish moves wave 1's tags (and a
      // new site's); `npm run fleet -- promote --wave 2` moves wave 2's, once wave 1 is Ready at the
      // commit, reading what wave 1 runs from its Flux and the commit from its artifact's annotation.
      it('promotion by wave tag: a publish moves wave 1 only; promote moves wave 2 once wave 1 is Ready, and refuses while it is not', { timeout: 3 * WAIT_MS }, async () => {
        const site = { registry: `${registry.host}/waves`, insecure: true };
        const names = ['store-0012', readInventory().clusters.find((c) => c.wave === 2 && c.overlay === 'single-node')!.name];
        await ociFleetCopy(repo.work, { [names[0]!]: site, [names[1]!]: site });
        const c0 = await repo.commit('fleet: two OCI sites, in waves 1 and 2');
        await repo.push();
        const fleet = readInventory({ root: repo.work }).clusters;
        const [first, second] = names.map((n) => fleet.find((c) => c.name === n)!) as [Cluster, Cluster];
        expect([first.wave, second.wave, first.oci?.registry, second.oci?.registry]).toEqual([1, 2, site.registry, site.registry]);
        const generated: K8sObject[] = [];
        for (const c of [first, second]) {
          const built = await kustomizeBuild(await findKustomize(), path.join(repo.work, 'gitops', 'flux', 'clusters', c.name));
          generated.push(...parseObjects(built.ok ? built.yaml : '').filter((o) => o.kind === 'OCIRepository' || (o.kind === 'Kustomization' && o.metadata.name === `emqx-${first.name}`)));
        }
        // [wave 1's, wave 2's]: publish lists them in the inventory's order.
        const publishBoth = async () => {
          const { published } = await publish({ root: repo.work, registry: site.registry, transport: { plainHttp: true }, clusters: names, usage: 'usage', warn: () => undefined });
          return [first, second].map((c) => published.find((p) => p.cluster === c.name)!);
        };
        const revisionOf = async (kind: 'ocirepositories' | 'kustomizations', name: string) => {
          const group = kind === 'ocirepositories' ? 'source.toolkit.fluxcd.io' : 'kustomize.toolkit.fluxcd.io';
          const res = await cp.api(`/apis/${group}/v1/namespaces/${FLUX_NAMESPACE}/${kind}/${name}`);
          const obj = JSON.parse(res.body) as OciRepository & FluxKustomization;
          return kind === 'ocirepositories' ? (obj.status?.artifact?.revision ?? '') : `${readyCondition(obj)?.status ?? '?'} ${obj.status?.lastAppliedRevision ?? ''}`;
        };
        const reaches = (c: Cluster, revision: string, kustomization = false) =>
          until(`emqx-${c.name} at ${revision}`, WAIT_MS, async () => {
            await cp.kubectlOk(['-n', FLUX_NAMESPACE, 'annotate', '--overwrite', `ocirepository/emqx-${c.name}`, `reconcile.fluxcd.io/requestedAt=${Date.now()}`]);
            if (kustomization) await cp.kubectlOk(['-n', FLUX_NAMESPACE, 'annotate', '--overwrite', `kustomization/emqx-${c.name}`, `reconcile.fluxcd.io/requestedAt=${Date.now()}`]);
            const seen = kustomization ? await revisionOf('kustomizations', `emqx-${c.name}`) : await revisionOf('ocirepositories', `emqx-${c.name}`);
            return seen === (kustomization ? `True ${revision}` : revision) ? true : `at ${seen || 'nothing'}`;
          });
        const kubeconfig = path.join(dir, 'waves-kubeconfig');
        await fleetKubeconfig(kubeconfig, new Map([[first.name, cp]]));
        const promote = () => promoteWave(repo.work, 2, kubeconfig, E2E_REMOTE);
        const waveTagOf = (c: Cluster, tag: string) => tagDigest(registry.host, `waves/${c.name}`, tag);

        // A new site gets its wave tag from its first publish; both sites pull it. Wave 1's
        // Kustomization, as generated, applies into a namespace of its own and does not wait for pods.
        const [a1, a2] = (await publishBoth()) as [PublishedCluster, PublishedCluster];
        expect([a1.tags, a2.tags, a2.held]).toEqual([[c0.slice(0, 12), 'wave-1'], [c0.slice(0, 12), 'wave-2'], undefined]);
        await cp.kubectlOk(['create', 'namespace', 'emqx-oci-waves']);
        const objects = generated.map((o) => (o.kind === 'Kustomization' ? { ...o, spec: { ...(o as K8sObject & { spec: object }).spec, targetNamespace: 'emqx-oci-waves', wait: false, timeout: '2m' } } : o));
        await cp.kubectlOk(['apply', '-f', '-'], { input: objects.map((o) => JSON.stringify(o)).join('\n---\n') });
        await reaches(first, `wave-1@${a1.digest}`, true);
        await reaches(second, `wave-2@${a2.digest}`);

        // A change both render, merged and published: wave 1's tag moves, wave 2's is held.
        await repo.edit('overlays/single-node/kustomization.yaml', (t) => t.replace(/(\n(\s+)- EMQX_CLUSTER__DISCOVERY_STRATEGY=singleton\n)/, '$1$2- EMQX_LOG__CONSOLE__FORMATTER=json\n'));
        const c1 = await repo.commit('single-node: a setting, for wave 1 first');
        await repo.push();
        const [b1, b2] = (await publishBoth()) as [PublishedCluster, PublishedCluster];
        expect([b1.tags, b2.tags, b2.held]).toEqual([[c1.slice(0, 12), 'wave-1'], [c1.slice(0, 12)], { tag: 'wave-2', digest: a2.digest, wave: 2 }]);
        expect(await waveTagOf(second, 'wave-2')).toBe(a2.digest);
        await reaches(first, `wave-1@${b1.digest}`, true);
        await cp.kubectlOk(['-n', FLUX_NAMESPACE, 'annotate', '--overwrite', `ocirepository/emqx-${second.name}`, `reconcile.fluxcd.io/requestedAt=${Date.now()}`]);
        await new Promise((r) => setTimeout(r, 5_000));
        expect(await revisionOf('ocirepositories', `emqx-${second.name}`)).toBe(`wave-2@${a2.digest}`);

        // Wave 1 is Ready at c1's artifact: promote moves wave 2's tag (and creates fleet/wave-2 for
        // wave 2's Git clusters), and the site pulls c1's artifact. Again: nothing to promote.
        const promoted = await promote();
        expect(promoted.exitCode, promoted.stderr).toBe(0);
        expect(promoted.stderr).toContain(`wave 1: ${first.name}: Ready at ${c1.slice(0, 12)}`);
        expect(promoted.stdout.trim().split('\n').sort()).toEqual(
          [`promoted wave 2: fleet/wave-2 (new) ${c1.slice(0, 12)}, what wave 1 runs`, `promoted wave 2: ${site.registry}/${second.name}:wave-2 ${c0.slice(0, 12)} -> ${c1.slice(0, 12)}, what wave 1 runs`].sort(),
        );
        expect(await waveTagOf(second, 'wave-2')).toBe(b2.digest);
        expect(await repo.branchCommit('fleet/wave-2')).toBe(c1);
        await reaches(second, `wave-2@${b2.digest}`);
        const again = await promote();
        expect(again.exitCode).toBe(1);
        expect(again.stderr).toContain(`cannot promote wave 2: nothing to promote: wave 2 already runs it:\n  fleet/wave-2: ${c1.slice(0, 12)}\n  ${site.registry}/${second.name}:wave-2: ${c1.slice(0, 12)}\nIt is what wave 1 runs.`);

        // Wave 1 not Ready (its Kustomization points at a path the artifact lacks): a new commit is
        // published, and promote refuses, naming the site; wave 2's tag stays.
        await cp.kubectlOk(['-n', FLUX_NAMESPACE, 'patch', 'kustomization', `emqx-${first.name}`, '--type', 'merge', '-p', JSON.stringify({ spec: { path: './no-such-path' } })]);
        await until(`emqx-${first.name} not Ready`, WAIT_MS, async () => ((await revisionOf('kustomizations', `emqx-${first.name}`)).startsWith('False') ? true : await revisionOf('kustomizations', `emqx-${first.name}`)));
        await repo.edit('overlays/single-node/kustomization.yaml', (t) => t.replace('EMQX_LOG__CONSOLE__FORMATTER=json', 'EMQX_LOG__CONSOLE__FORMATTER=text'));
        await repo.commit('single-node: another setting, while wave 1 is not Ready');
        await repo.push();
        const [, d2] = (await publishBoth()) as [PublishedCluster, PublishedCluster];
        expect(d2.held).toEqual({ tag: 'wave-2', digest: b2.digest, wave: 2 });
        const refused = await promote();
        expect(refused.exitCode).toBe(1);
        expect(refused.stderr).toMatch(new RegExp(`cannot promote wave 2: 1 of 1 clusters of wave 1 is not Ready:\\n  ${first.name}: Ready=False`));
        expect(await waveTagOf(second, 'wave-2')).toBe(b2.digest);
        expect(await repo.branchCommit('fleet/wave-2')).toBe(c1);
      });
    },
    [...CONTROL_PLANE_BINARIES, ...FLUX_BINARIES],
  );
});
