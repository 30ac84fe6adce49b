// `npm run e2e`: git push deploys, for real. On the ephemeral control plane, with the pinned Flux
// controllers, from a bare clone of the working tree served over git's smart HTTP on 127.0.0.1:
// bootstrap as the README says, then push three commits (an EMQX setting, a volumeClaimTemplates
// change, an overlay removed) and check what the cluster, Flux and `npm run diff` make of each.
// Every wait is bounded; everything started is stopped whatever happens (processes.ts also kills
// the servers and removes the temporary directory on Ctrl-C).
import { crdModules, installPinnedCrds } from '../tools/control-plane/crds.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UserError, EXIT_FINDINGS, EXIT_USAGE } from '../cli/errors.ts';
import { serveGitOverHttp, type GitHttpServer } from '../tools/git-http.ts';
import { listOverlays } from '../model/overlays.ts';
import { REPO_ROOT } from '../util/paths.ts';
import { forgetTempDir, registerTempDir, waitUntil, WaitTimeout, type Server } from '../tools/control-plane/processes.ts';
import { provisionPendingClaims } from '../tools/control-plane/provisioner.ts';
import { startControlPlane, type ControlPlane } from '../tools/control-plane/start.ts';
import { claimsIn, describeWorkload, describeWorkloads, exists, inventoryPath, podsOf, rolledOut, templateConfigMaps, workloadsOf, workloadUid, type ClaimInfo, type WorkloadRef } from './cluster.ts';
import { diffCommits, regenerateFluxFiles, type DiffJson } from './commands.ts';
import { commitOf, describeFlux, FLUX_CONTROLLERS, getGitRepository, getKustomization, readyCondition, requestReconcile, startFluxControllers, type FluxKustomization } from './flux.ts';
import { createOperatorPrerequisites, createOverlayPrerequisites, standInForOperators } from './prerequisites.ts';
import { BARE_NAME, createTestRepository, E2E_BRANCH, removeDirectory } from './repository.ts';

export interface E2eOptions {
  /** The working tree to test (default: this repository). */
  readonly source?: string;
  readonly log?: (line: string) => void;
  /** Bound on each wait (default 3 min). */
  readonly waitMs?: number;
}

export interface StageTiming {
  readonly name: string;
  readonly seconds: number;
}

/** The EMQX setting the e2e adds to base/emqx.env (log.console.level). */
export const E2E_SETTING = { key: 'EMQX_LOG__CONSOLE__LEVEL', value: 'warning' } as const;
export const PERSISTENCE_PATCH = 'components/persistence/patches/statefulset-persistence.yaml';

/** What the force stage appends to the overlay's kustomization: a new claim size, and Flux's force on the StatefulSet. */
const FORCE_PATCH = `patches:
  - target: {kind: StatefulSet, name: emqx}
    patch: |-
      - op: replace
        path: /spec/volumeClaimTemplates/0/spec/resources/requests/storage
        value: 30Gi
      - op: add
        path: /metadata/annotations/kustomize.toolkit.fluxcd.io~1force
        value: enabled
`;

export interface E2eReport {
  /** The temporary directory of the clones; removed when the run ends. */
  readonly dir: string;
  readonly stages: StageTiming[];
  readonly overlays: string[];
  readonly bootstrap: {
    readonly commit: string;
    readonly kustomizations: ReadonlyArray<{ readonly name: string; readonly revision: string }>;
    readonly workloads: ReadonlyArray<{ readonly workload: string; readonly readyPods: number }>;
    readonly standIns: string[];
  };
  readonly configChange: {
    readonly commit: string;
    /** Per overlay, the generated ConfigMap the diff paired across its new hash, and the changed keys. */
    readonly diff: ReadonlyArray<{ readonly overlay: string; readonly from: string; readonly to: string; readonly paths: readonly string[] }>;
    readonly rolled: ReadonlyArray<{ readonly workload: string; readonly from: string[]; readonly to: string[]; readonly podsRecreated: boolean; readonly podsOnNewConfigMap: boolean }>;
  };
  readonly immutable: {
    readonly commit: string;
    readonly diffWarnings: ReadonlyArray<{ readonly overlay: string; readonly rule: string; readonly object: string }>;
    readonly failed: ReadonlyArray<{ readonly kustomization: string; readonly message: string }>;
    readonly unaffectedReady: string[];
    readonly recovered: ReadonlyArray<{ readonly workload: string; readonly samePods: boolean; readonly sameClaims: boolean; readonly claimSizes: string[]; readonly newStatefulSet: boolean }>;
  };
  /** Flux's force, which the README warns against: it gets an immutable change through by recreating the StatefulSet. */
  readonly force: {
    readonly commit: string;
    readonly workload: string;
    readonly newStatefulSet: boolean;
    /** Every pod replaced: no broker survives the recreate. */
    readonly everyPodReplaced: boolean;
    readonly sameClaims: boolean;
    readonly claimSizes: string[];
  };
  readonly removal: {
    readonly commit: string;
    readonly overlay: string;
    readonly generated: string[];
    readonly pruned: string[];
    readonly kept: string[];
    readonly notPruned: string[];
  };
}

/** A stage that failed: exit 1, with what it waited for, what Flux says and the controllers' logs. */
export class E2eFailure extends UserError {
  constructor(message: string) {
    super(message, EXIT_FINDINGS);
    this.name = 'E2eFailure';
  }
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

export async function runE2e(options: E2eOptions = {}): Promise<E2eReport> {
  const log = options.log ?? (() => {});
  const waitMs = options.waitMs ?? 180_000;
  const source = options.source ?? REPO_ROOT;
  const stages: StageTiming[] = [];
  let cp: ControlPlane | undefined;
  let server: GitHttpServer | undefined;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'emqx-gitops-e2e-'));
  registerTempDir(dir);
  const began = Date.now();

  async function stage<T>(name: string, body: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    log(`▶ ${name}`);
    try {
      const result = await body();
      const s = seconds(Date.now() - t0);
      stages.push({ name, seconds: s });
      log(`✔ ${name} (${s.toFixed(1)} s; ${seconds(Date.now() - began).toFixed(1)} s in all)`);
      return result;
    } catch (error) {
      throw await failure(name, Date.now() - t0, error);
    }
  }

  async function failure(name: string, ms: number, error: unknown): Promise<UserError> {
    const what = error instanceof Error ? error.message : String(error);
    const parts = [`e2e stage "${name}" failed after ${seconds(ms).toFixed(1)} s: ${what}`];
    if (cp) {
      parts.push(`What Flux reports:\n${await describeFlux(cp)}`);
      parts.push(`The workloads:\n${await describeWorkloads(cp).catch((e: Error) => `  (could not read them: ${e.message})`)}`);
      for (const c of FLUX_CONTROLLERS) parts.push(`The end of ${c}'s log:\n${indent(cp.logTail(c, 12))}`);
    }
    if (server && server.requests.length > 0) parts.push(`The git server's last requests:\n${indent(server.requests.slice(-5).join('\n'))}`);
    // A tool that is missing or broken stays exit 2; anything the run observed is exit 1.
    if (error instanceof UserError && error.exitCode === EXIT_USAGE) return new UserError(parts.join('\n'), EXIT_USAGE);
    return new E2eFailure(parts.join('\n'));
  }

  let controllers: readonly Server[] = [];
  // A controller that died makes every later wait pointless: fail at once, saying which.
  const failFast = () => controllers.map((s) => (s.exited !== undefined ? `${s.name} exited (${s.exited})` : '')).find(Boolean);

  async function wait(what: string, probe: () => Promise<true | string>): Promise<number> {
    return waitUntil(what, waitMs, probe, 500, failFast);
  }

  try {
    const repo = await stage('clone the working tree and serve it over HTTP', async () => {
      const r = await createTestRepository(source, dir);
      await r.commit(`e2e: the working tree of ${source} as it is now, uncommitted changes included`);
      server = await serveGitOverHttp(r.projectRoot);
      // What the README tells a fork to do: the one line that names the repository.
      await r.edit('gitops/repository/repository.env', (t) => t.replace(/^url=.*$/m, `url=${server!.urlOf(BARE_NAME)}`).replace(/^revision=.*$/m, `revision=${E2E_BRANCH}`));
      await r.commit('gitops: deploy from the e2e git server');
      await r.push();
      log(`  ${server.urlOf(BARE_NAME)} (${E2E_BRANCH}) from ${source}`);
      return r;
    });
    const overlays = listOverlays(path.join(repo.work, 'overlays')).map((o) => o.name);

    const plane = await stage('start the control plane and Flux', async () => {
      cp = await startControlPlane({ log: (l) => log(`  ${l}`) });
      log(`  CRDs from ${crdModules(await installPinnedCrds(cp)).join(', ')}`);
      controllers = await startFluxControllers(cp, waitMs);
      return cp;
    });

    const bootstrap = await stage('bootstrap: prerequisites, `kubectl apply -k gitops/flux`, every overlay Ready', async () => {
      const namespaces = await createOverlayPrerequisites(plane, overlays);
      await createOperatorPrerequisites(plane);
      log(`  namespaces and emqx-secrets: ${namespaces.join(', ')}`);
      await plane.kubectlOk(['apply', '-k', path.join(repo.work, 'gitops', 'flux')]);
      const commit = await repo.head();
      const standIns = await syncTo(commit);
      const kustomizations = await Promise.all(['emqx-gitops', ...overlays.map((o) => `emqx-${o}`)].map(async (name) => ({ name, revision: (await getKustomization(plane, name))?.status?.lastAppliedRevision ?? '' })));
      const workloads = [];
      for (const w of await allWorkloads()) workloads.push({ workload: describeWorkload(w), readyPods: (await podsOf(plane, w)).filter((p) => p.ready && !p.terminating).length });
      return { commit, kustomizations, workloads, standIns };
    });

    const configChange = await stage(`push: ${E2E_SETTING.key}=${E2E_SETTING.value} in base/emqx.env rolls every workload`, async () => {
      const workloads = await allWorkloads();
      const before = new Map<string, { cms: string[]; pods: string[] }>();
      for (const w of workloads) before.set(describeWorkload(w), { cms: await templateConfigMaps(plane, w), pods: (await podsOf(plane, w)).map((p) => p.uid) });
      await repo.edit('base/emqx.env', (t) => `${t.trimEnd()}\n# e2e: a setting every overlay reads (log.console.level).\n${E2E_SETTING.key}=${E2E_SETTING.value}\n`);
      const base = await repo.head();
      const commit = await repo.commit(`base: ${E2E_SETTING.key}=${E2E_SETTING.value}`);
      const report = await diffCommits(repo.work, base, commit);
      // The diff also reports what else renders from overlays/ (fleet clusters): keep the deployed overlays.
      const diff = configMapChanges(report).filter((d) => overlays.includes(d.overlay));
      const missing = overlays.filter((o) => !diff.some((d) => d.overlay === o && d.paths.some((p) => p.includes(E2E_SETTING.key))));
      if (missing.length > 0) throw new Error(`npm run diff did not show ${E2E_SETTING.key} in the ConfigMap of ${missing.join(', ')}`);
      await repo.push();
      await syncTo(commit);
      const rolled = [];
      for (const w of workloads) {
        const was = before.get(describeWorkload(w))!;
        await wait(`${describeWorkload(w)} to roll onto a new ConfigMap`, async () => {
          const r = await rolledOut(plane, w);
          if (r !== true) return r;
          const cms = await templateConfigMaps(plane, w);
          if (cms.join() === was.cms.join()) return `the pod template still reads ${cms.join(', ')}`;
          const pods = await podsOf(plane, w);
          const stale = pods.filter((p) => was.pods.includes(p.uid) || p.configMaps.join() !== cms.join());
          return stale.length === 0 ? true : `${stale.map((p) => p.name).join(', ')} not yet re-created on ${cms.join(', ')}`;
        });
        const pods = await podsOf(plane, w);
        const to = await templateConfigMaps(plane, w);
        rolled.push({
          workload: describeWorkload(w),
          from: was.cms,
          to,
          podsRecreated: pods.every((p) => !was.pods.includes(p.uid)),
          podsOnNewConfigMap: pods.every((p) => p.configMaps.join() === to.join()),
        });
      }
      return { commit, diff, rolled };
    });

    const immutable = await stage('push: a new claim size in volumeClaimTemplates, then the documented remedy', async () => {
      const base = await repo.head();
      await repo.edit(PERSISTENCE_PATCH, (t) => t.replace(/storage: 10Gi/, 'storage: 20Gi'));
      const commit = await repo.commit('persistence: claims of 20Gi');
      const report = await diffCommits(repo.work, base, commit);
      const diffWarnings = report.overlays.filter((o) => overlays.includes(o.name)).flatMap((o) => o.warnings.filter((w) => w.rule === 'immutable-field').map((w) => ({ overlay: o.name, rule: w.rule, object: w.object })));
      if (diffWarnings.length === 0) throw new Error(`npm run diff gave no immutable-field warning for the change of ${PERSISTENCE_PATCH}`);
      const affected = [...new Set(diffWarnings.map((w) => w.overlay))];
      const unaffected = overlays.filter((o) => !affected.includes(o));
      const stateBefore = new Map<string, { pods: string[]; claims: ClaimInfo[]; uid: string }>();
      for (const o of affected) {
        const w = statefulSet(o);
        stateBefore.set(o, { pods: (await podsOf(plane, w)).map((p) => p.uid).sort(), claims: await claimsIn(plane, w.namespace), uid: (await workloadUid(plane, w)) ?? '' });
      }
      await repo.push();
      await reconcileSource(commit);
      const failed = [];
      for (const o of affected) {
        const name = `emqx-${o}`;
        let message = '';
        await wait(`Kustomization ${name} to report Ready=False with "field is immutable" for ${commit.slice(0, 12)}`, async () => {
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
      await waitKustomizationsReady(unaffected.map((o) => `emqx-${o}`), commit);
      // README, "When the diff warns of an immutable field": orphan delete, then reconcile.
      const recovered = [];
      for (const o of affected) {
        const w = statefulSet(o);
        await plane.kubectlOk(['-n', w.namespace, 'delete', 'statefulset', w.name, '--cascade=orphan']);
        await requestReconcile(plane, 'kustomization', `emqx-${o}`);
      }
      await waitKustomizationsReady(affected.map((o) => `emqx-${o}`), commit);
      for (const o of affected) {
        const w = statefulSet(o);
        await wait(`${describeWorkload(w)} re-created and Ready`, () => rolledOut(plane, w));
        const was = stateBefore.get(o)!;
        const pods = (await podsOf(plane, w)).map((p) => p.uid).sort();
        const claims = await claimsIn(plane, w.namespace);
        recovered.push({
          workload: describeWorkload(w),
          samePods: pods.join() === was.pods.join(),
          sameClaims: claims.map((c) => c.uid).join() === was.claims.map((c) => c.uid).join(),
          claimSizes: claims.map((c) => `${c.name}=${c.storage}`),
          newStatefulSet: ((await workloadUid(plane, w)) ?? '') !== was.uid,
        });
      }
      return { commit, diffWarnings, failed, unaffectedReady: unaffected.map((o) => `emqx-${o}`), recovered };
    });

    const force = await stage("push: a claim size with Flux's force (`kustomize.toolkit.fluxcd.io/force: enabled`)", async () => {
      // README, "When the diff warns of an immutable field": force gets through by deleting and
      // recreating the object. Shown on one overlay, as a user would write it: in git, on the object.
      const overlay = overlays.includes('production') ? 'production' : overlays.find((o) => o !== 'single-node' && o !== 'deployment-ip')!;
      const w = statefulSet(overlay);
      const podsBefore = (await podsOf(plane, w)).map((p) => p.uid);
      const claimsBefore = await claimsIn(plane, w.namespace);
      const uidBefore = (await workloadUid(plane, w)) ?? '';
      await repo.edit(`overlays/${overlay}/kustomization.yaml`, (t) => `${t.trimEnd()}\n${FORCE_PATCH}`);
      const commit = await repo.commit(`${overlay}: claims of 30Gi, applied with Flux's force`);
      await repo.push();
      await reconcileSource(commit);
      await waitKustomizationsReady([`emqx-${overlay}`], commit);
      await wait(`${describeWorkload(w)} recreated by Flux and Ready`, async () => {
        if (((await workloadUid(plane, w)) ?? uidBefore) === uidBefore) return 'the StatefulSet is the old one';
        return rolledOut(plane, w);
      });
      const pods = (await podsOf(plane, w)).map((p) => p.uid);
      const claims = await claimsIn(plane, w.namespace);
      return {
        commit,
        workload: describeWorkload(w),
        newStatefulSet: ((await workloadUid(plane, w)) ?? '') !== uidBefore,
        everyPodReplaced: pods.length > 0 && pods.every((uid) => !podsBefore.includes(uid)),
        sameClaims: claims.map((c) => c.uid).sort().join() === claimsBefore.map((c) => c.uid).sort().join(),
        claimSizes: claims.map((c) => `${c.name}=${c.storage}`),
      };
    });

    const removal = await stage('push: an overlay directory removed (and `npm run gitops:flux`)', async () => {
      const overlay = overlays.includes('statefulset-hostname-pvc') ? 'statefulset-hostname-pvc' : overlays[overlays.length - 1]!;
      const namespace = `emqx-${overlay}`;
      const k = await getKustomization(plane, `emqx-${overlay}`);
      const inventory = (k?.status?.inventory?.entries ?? []).map((e) => e.id);
      const claimsBefore = await claimsIn(plane, namespace);
      await removeDirectory(repo, `overlays/${overlay}`);
      const generated = await regenerateFluxFiles(repo.work);
      const commit = await repo.commit(`overlays: remove ${overlay}`);
      await repo.push();
      await reconcileSource(commit);
      await requestReconcile(plane, 'kustomization', 'emqx-gitops');
      await waitKustomizationsReady(['emqx-gitops'], commit);
      await wait(`Kustomization emqx-${overlay} to be deleted (pruned by emqx-gitops)`, async () => ((await getKustomization(plane, `emqx-${overlay}`)) ? 'still there' : true));
      const pruned: string[] = [];
      const notPruned: string[] = [];
      await wait(`the objects of Kustomization emqx-${overlay} to be deleted`, async () => {
        const left = [];
        for (const id of inventory) {
          const p = inventoryPath(id);
          if (p && (await exists(plane, p))) left.push(id);
        }
        const pods = await plane.api(`/api/v1/namespaces/${namespace}/pods`);
        const podCount = pods.status === 200 ? (JSON.parse(pods.body) as { items: unknown[] }).items.length : 0;
        if (left.length === 0 && podCount === 0) return true;
        return `left: ${[...left, ...(podCount ? [`${podCount} pods`] : [])].join(', ')}`;
      });
      for (const id of inventory) (inventoryPath(id) ? pruned : notPruned).push(id);
      const kept: string[] = [];
      if (await exists(plane, `/api/v1/namespaces/${namespace}`)) kept.push(`Namespace ${namespace}`);
      if (await exists(plane, `/api/v1/namespaces/${namespace}/secrets/emqx-secrets`)) kept.push(`Secret ${namespace}/emqx-secrets`);
      const claimsAfter = await claimsIn(plane, namespace);
      for (const c of claimsAfter) if (claimsBefore.some((b) => b.uid === c.uid)) kept.push(`PersistentVolumeClaim ${namespace}/${c.name}`);
      return { commit, overlay, generated, pruned, kept, notPruned };
    });

    log(`e2e passed in ${seconds(Date.now() - began).toFixed(1)} s`);
    return { dir, stages, overlays, bootstrap, configChange, immutable, force, removal };

    // ---- helpers that close over the plane and the repository ----

    async function allWorkloads(): Promise<WorkloadRef[]> {
      const found: WorkloadRef[] = [];
      for (const o of overlays) {
        const k = await getKustomization(plane, `emqx-${o}`);
        if (k) found.push(...workloadsOf(k));
      }
      return found;
    }

    function statefulSet(overlay: string): WorkloadRef {
      return { kind: 'StatefulSet', namespace: `emqx-${overlay}`, name: 'emqx' };
    }

    async function reconcileSource(commit: string): Promise<void> {
      await requestReconcile(plane, 'gitrepository', 'emqx');
      await wait(`GitRepository emqx to fetch ${commit.slice(0, 12)} from ${server?.urlOf(BARE_NAME)}`, async () => {
        const g = await getGitRepository(plane);
        const rev = g?.status?.artifact?.revision;
        if (commitOf(rev) === commit) return true;
        const r = readyCondition(g);
        return `artifact ${rev ?? 'none'}; Ready=${r?.status ?? '?'} ${r?.message ?? ''}`;
      });
    }

    /** Fetch `commit`, have every Kustomization apply it, and wait until each is Ready and its workloads rolled out. */
    async function syncTo(commit: string): Promise<string[]> {
      await reconcileSource(commit);
      const names = ['emqx-gitops', ...overlays.map((o) => `emqx-${o}`)];
      // As `flux reconcile kustomization --with-source`: no wait for the next interval.
      for (const n of names) if (await getKustomization(plane, n)) await requestReconcile(plane, 'kustomization', n);
      const standIns = new Set<string>();
      await waitKustomizationsReady(names, commit, async () => {
        await provisionPendingClaims(plane);
        for (const s of await standInForOperators(plane)) standIns.add(s);
      });
      for (const w of await allWorkloads()) await wait(`${describeWorkload(w)} to have every replica Ready`, () => rolledOut(plane, w));
      return [...standIns];
    }

    async function waitKustomizationsReady(names: readonly string[], commit: string, meanwhile?: () => Promise<void>): Promise<void> {
      await wait(`Kustomizations ${names.join(', ')} Ready at ${commit.slice(0, 12)}`, async () => {
        await meanwhile?.();
        const pending: string[] = [];
        for (const n of names) {
          const k: FluxKustomization | undefined = await getKustomization(plane, n);
          const ready = readyCondition(k);
          if (!k) pending.push(`${n}: not created yet`);
          else if (ready?.status !== 'True' || commitOf(k.status?.lastAppliedRevision) !== commit) pending.push(`${n}: Ready=${ready?.status ?? '?'} at ${k.status?.lastAppliedRevision ?? 'nothing'} (${ready?.message ?? ''})`);
        }
        return pending.length === 0 ? true : pending.join('; ');
      });
    }
  } catch (error) {
    if (error instanceof WaitTimeout) throw new E2eFailure(error.message);
    throw error;
  } finally {
    log('▶ tear down');
    const t0 = Date.now();
    await (cp as ControlPlane | undefined)?.stop();
    await (server as GitHttpServer | undefined)?.stop();
    await rm(dir, { recursive: true, force: true });
    forgetTempDir(dir);
    log(`✔ tear down (${seconds(Date.now() - t0).toFixed(1)} s)`);
  }
}

function configMapChanges(report: DiffJson): Array<{ overlay: string; from: string; to: string; paths: string[] }> {
  return report.overlays.flatMap((o) =>
    o.changes.filter((c) => c.id.kind === 'ConfigMap' && c.previousName !== undefined).map((c) => ({ overlay: o.name, from: c.previousName!, to: c.id.name, paths: [...c.paths] })),
  );
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

