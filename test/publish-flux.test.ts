// The edge-site path end to end: `npm run publish` pushes a cluster's artifact to a real registry,
// and the pinned source-controller and kustomize-controller on an ephemeral control plane pull it
// (OCIRepository at the wave tag, Kustomization of ./, both as `npm run fleet -- generate` writes them
// for an inventory entry with `oci:`) and apply the same objects as the Git path
// (GitRepository over HTTP, Kustomization of ./clusters/<name>) does for the same working tree;
// then promotion by wave tag: publishing wave 1's cluster moves only what wave 1's site pulls.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BARE_NAME, createTestRepository, E2E_BRANCH } from '../scripts/lib/e2e/repository.ts';
import { FLUX_NAMESPACE, getKustomization, readyCondition, type Condition, type FluxKustomization } from '../scripts/lib/e2e/flux/controllers.ts';
import { startFluxControllers } from '../scripts/lib/e2e/flux/controllers.ts';
import { readInventory, type Cluster } from '../scripts/lib/fleet/inventory.ts';
import { publish } from '../scripts/lib/publish/run.ts';
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
import { describeWithRegistry } from './helpers/registry.ts';
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

      // Each site follows its own repository's `wave-<N>` tag: publishing the clusters of wave 1
      // moves only their tags, and a wave 2 site keeps what it runs until its clusters are published.
      it('promotion by wave tag: publishing wave 1 moves only wave 1, then publishing wave 2 moves it', { timeout: 2 * WAIT_MS }, async () => {
        const fleet = readInventory({ root: repo.work }).clusters;
        const [first, second] = [fleet.find((c) => c.wave === 1)!, fleet.find((c) => c.wave === 2 && c.overlay === 'single-node')!];
        const site = { registry: `${registry.host}/waves`, insecure: true };
        const copy = await ociFleetCopy(await mkdtemp(path.join(dir, 'oci-waves-')), { [first.name]: site, [second.name]: site });
        const repositories: K8sObject[] = [];
        for (const c of [first, second]) {
          const built = await kustomizeBuild(await findKustomize(), path.join(copy, 'gitops', 'flux', 'clusters', c.name));
          repositories.push(parseObjects(built.ok ? built.yaml : '').find((o) => o.kind === 'OCIRepository')!);
        }
        const publishWave = async (c: Cluster) => {
          const out = await publish({ root: repo.work, registry: site.registry, transport: { plainHttp: true }, clusters: [c.name], usage: 'usage', warn: () => undefined });
          return out.published[0]!;
        };
        const revisionOf = async (c: Cluster) => {
          const res = await cp.api(`/apis/source.toolkit.fluxcd.io/v1/namespaces/${FLUX_NAMESPACE}/ocirepositories/emqx-${c.name}`);
          return res.status === 200 ? ((JSON.parse(res.body) as OciRepository).status?.artifact?.revision ?? '') : '';
        };
        const pulls = (c: Cluster, revision: string) =>
          until(`OCIRepository emqx-${c.name} at ${revision}`, WAIT_MS, async () => {
            await cp.kubectlOk(['-n', FLUX_NAMESPACE, 'annotate', '--overwrite', `ocirepository/emqx-${c.name}`, `reconcile.fluxcd.io/requestedAt=${Date.now()}`]);
            const seen = await revisionOf(c);
            return seen === revision ? true : `at ${seen || 'nothing'}`;
          });

        // Both waves published at the first commit, and pulled.
        const [a1, a2] = [await publishWave(first), await publishWave(second)];
        await cp.kubectlOk(['apply', '-f', '-'], { input: repositories.map((o) => JSON.stringify(o)).join('\n---\n') });
        await pulls(first, `wave-1@${a1.digest}`);
        await pulls(second, `wave-2@${a2.digest}`);

        // A change both render, published for wave 1 only: wave 1 pulls it, wave 2 stays.
        await repo.edit('overlays/single-node/kustomization.yaml', (t) => t.replace(/(\n(\s+)- EMQX_CLUSTER__DISCOVERY_STRATEGY=singleton\n)/, '$1$2- EMQX_LOG__CONSOLE__FORMATTER=json\n'));
        const changed = await repo.commit('single-node: a setting, for wave 1 first');
        const b1 = await publishWave(first);
        expect(b1.digest).not.toBe(a1.digest);
        await pulls(first, `wave-1@${b1.digest}`);
        await cp.kubectlOk(['-n', FLUX_NAMESPACE, 'annotate', '--overwrite', `ocirepository/emqx-${second.name}`, `reconcile.fluxcd.io/requestedAt=${Date.now()}`]);
        await new Promise((r) => setTimeout(r, 5_000));
        expect(await revisionOf(second)).toBe(`wave-2@${a2.digest}`);

        // Promotion: wave 2's clusters published; its site pulls the commit wave 1 runs.
        const b2 = await publishWave(second);
        await pulls(second, `wave-2@${b2.digest}`);
        expect(b2.tags).toEqual([changed.slice(0, 12), 'wave-2']);
      });
    },
    [...CONTROL_PLANE_BINARIES, ...FLUX_BINARIES],
  );
});
