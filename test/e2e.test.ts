// `npm run e2e` as CI runs it: the command itself (scripts/e2e.ts, --format json), one engine at a
// time, with assertions on what each push did; CI runs it here, in `npm test`, and nowhere else.
// Runs whenever the control plane and the engine are built (npm run setup -- --control-plane);
// skipped with one line otherwise, and failing under CI=true (test/helpers/control-plane.ts).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FleetReport } from '../scripts/lib/e2e/argocd/fleet.ts';
import type { ReplaceTry } from '../scripts/lib/e2e/argocd/replace.ts';
import type { ArgoCdRun, E2eReport, FluxRun } from '../scripts/lib/e2e/run.ts';
import { ARGOCD_BINARIES, CONTROL_PLANE_BINARIES, describeWithControlPlane, FLUX_BINARIES } from './helpers/control-plane.ts';
import { runScript } from './helpers/run.ts';

describe('npm run e2e: arguments', () => {
  it('refuses an unknown format, engine or argument with exit 2 and the usage', async () => {
    // Each message is scripts/e2e.ts's own, so each is a run; they start together.
    const [bad, engine, positional] = await Promise.all([runScript('e2e.ts', ['--format', 'xml']), runScript('e2e.ts', ['--engine', 'jenkins']), runScript('e2e.ts', ['overlays/single-node'])]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--format xml: use text or json[\s\S]*usage: npm run e2e/);
    expect(engine.exitCode).toBe(2);
    expect(engine.stderr).toMatch(/--engine jenkins: use argocd, flux or both[\s\S]*usage: npm run e2e/);
    expect(positional.exitCode).toBe(2);
  });
});

/** What Argo CD shows for a commit it cannot apply: the failed comparison, or Synced from its diff cache. */
const SYNCED_OR_FAILED_COMPARISON = /^(Unknown\/Healthy ComparisonError \(field is immutable\)|Synced\/Healthy)$/;

/** Whether a process of that id still exists (signal 0 only asks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function e2e<T extends E2eReport['runs'][number]>(engine: T['engine']): Promise<{ run: T; stderr: string }> {
  const out = await runScript('e2e.ts', ['--engine', engine, '--format', 'json']);
  expect(out.exitCode, out.stderr.slice(-6000)).toBe(0);
  const report = JSON.parse(out.stdout) as E2eReport;
  expect(report.runs.map((r) => r.engine)).toEqual([engine]);
  const run = report.runs[0] as T;
  // Every stage ran and said how long it took; everything was torn down, no server outlived it.
  for (const s of run.stages) expect(out.stderr).toContain(`✔ ${s.name} (${s.seconds.toFixed(1)} s`);
  expect(out.stderr).toMatch(/✔ tear down \(/);
  expect(existsSync(run.dir)).toBe(false);
  expect(run.processes.length).toBeGreaterThan(5);
  expect(run.processes.filter((p) => alive(p.pid)).map((p) => `${p.name} (${p.pid})`)).toEqual([]);
  return { run, stderr: out.stderr };
}

describeWithControlPlane(
  'npm run e2e: git push deploys through Flux',
  () => {
    it(
      'bootstraps, rolls a setting, survives a volumeClaimTemplates change and prunes a removed overlay',
      async () => {
        const { run: report } = await e2e<FluxRun>('flux');
        expect(report.stages).toHaveLength(8);

        // 3. Bootstrap: every overlay's Kustomization (and emqx-gitops) applied the pushed commit.
        expect(report.bootstrap.kustomizations.map((k) => k.name).sort()).toEqual(['emqx-gitops', ...report.overlays.map((o) => `emqx-${o}`)].sort());
        for (const k of report.bootstrap.kustomizations) expect(k.revision).toContain(report.bootstrap.commit);
        expect(report.bootstrap.workloads.map((w) => w.workload.split(' ')[1]!.split('/')[0]).sort()).toEqual(report.overlays.map((o) => `emqx-${o}`).sort());
        for (const w of report.bootstrap.workloads) expect(w.readyPods, w.workload).toBeGreaterThan(0);

        // 4. The EMQX setting: diff showed the ConfigMap's new hash in every overlay, and the cluster
        // runs exactly that ConfigMap, on re-created pods.
        expect(report.configChange.diff.map((d) => d.overlay).sort()).toEqual([...report.overlays].sort());
        for (const d of report.configChange.diff) {
          expect(d.paths).toContain('data.EMQX_LOG__CONSOLE__LEVEL');
          expect(d.to).not.toBe(d.from);
          const rolled = report.configChange.rolled.find((r) => r.workload.includes(` emqx-${d.overlay}/`));
          expect(rolled, d.overlay).toBeDefined();
          expect(rolled!.from).toEqual([d.from]);
          expect(rolled!.to).toEqual([d.to]);
          expect(rolled!.podsRecreated, rolled!.workload).toBe(true);
          expect(rolled!.podsOnNewConfigMap, rolled!.workload).toBe(true);
        }

        // 5. volumeClaimTemplates: diff warned about exactly the StatefulSets whose Kustomizations
        // then failed with "field is immutable"; the orphan delete and a reconcile kept pods and claims.
        const warned = report.immutable.diffWarnings;
        expect(warned.map((w) => w.overlay)).toContain('statefulset-hostname-pvc');
        for (const w of warned) {
          expect(w.rule).toBe('immutable-field');
          expect(w.object).toBe(`StatefulSet emqx-${w.overlay}/emqx`);
        }
        expect(report.immutable.failed.map((f) => f.kustomization).sort()).toEqual(warned.map((w) => `emqx-${w.overlay}`).sort());
        for (const f of report.immutable.failed) expect(f.message).toMatch(/spec\.volumeClaimTemplates.*field is immutable/s);
        expect(report.immutable.unaffectedReady.sort()).toEqual(report.overlays.filter((o) => !warned.some((w) => w.overlay === o)).map((o) => `emqx-${o}`).sort());
        expect(report.immutable.recovered.map((r) => r.workload).sort()).toEqual(warned.map((w) => w.object).sort());
        for (const r of report.immutable.recovered) {
          expect(r.newStatefulSet, r.workload).toBe(true);
          expect(r.samePods, r.workload).toBe(true);
          expect(r.sameClaims, r.workload).toBe(true);
          // Existing claims keep their size (docs/gitops.md): the new size is for new claims only.
          expect(r.claimSizes.length).toBeGreaterThan(0);
          for (const c of r.claimSizes) expect(c).toMatch(/=10Gi$/);
        }

        // Flux's force gets the immutable change through by recreating the StatefulSet: every broker
        // is replaced at once (docs/gitops.md, "When the diff warns of an immutable field"); the claims stay.
        expect(report.force.workload).toBe('StatefulSet emqx-production/emqx');
        expect(report.force.newStatefulSet).toBe(true);
        expect(report.force.everyPodReplaced).toBe(true);
        expect(report.force.sameClaims).toBe(true);
        for (const c of report.force.claimSizes) expect(c).toMatch(/=10Gi$/);

        // 6. Overlay removed: Flux pruned what it applied; the namespace, the Secret and the claims stay.
        const ns = `emqx-${report.removal.overlay}`;
        expect(report.removal.generated.some((g) => g.includes(`removed`) && g.includes(`overlays/${report.removal.overlay}/kustomization-flux.yaml`))).toBe(true);
        expect(report.removal.notPruned).toEqual([]);
        expect(report.removal.pruned).toEqual(expect.arrayContaining([`${ns}_emqx_apps_StatefulSet`, `${ns}_emqx_policy_PodDisruptionBudget`, `${ns}_emqx-headless__Service`]));
        expect(report.removal.pruned.some((id) => id.startsWith(`${ns}_emqx-env-`) && id.endsWith('__ConfigMap'))).toBe(true);
        expect(report.removal.kept).toEqual(expect.arrayContaining([`Namespace ${ns}`, `Secret ${ns}/emqx-secrets`]));
        expect(report.removal.kept.filter((k) => k.startsWith('PersistentVolumeClaim ')).length).toBe(3);

        // 7. Waves on two more clusters, each with its own Flux from its folder: wave 1 follows
        // main, wave 2 its own branch, which only `npm run fleet -- promote --wave 2` moves.
        const w = report.waves;
        const [wave1, wave2] = w.bootstrap as [typeof w.bootstrap[number], typeof w.bootstrap[number]];
        expect([wave1.wave, wave1.branch, wave2.wave, wave2.branch]).toEqual([1, 'main', 2, 'fleet/wave-2']);
        for (const c of w.bootstrap) expect(c.ready, c.cluster).toBe(true);
        expect(wave2.applied).toBe(wave1.applied);
        // A change reaches wave 1 and not wave 2, although wave 2's Flux was asked to reconcile.
        expect(w.change.wave1).toMatchObject({ applied: w.change.commit, ready: true });
        expect(w.change.wave2).toMatchObject({ applied: wave2.applied, ready: true });
        expect(w.change.wave1ConfigMaps).not.toEqual(w.change.wave2ConfigMaps);
        // Promotion moves fleet/wave-2 to what wave 1 runs; wave 2 then runs it; again: nothing to promote (exit 1).
        expect(w.promotion.output).toMatch(new RegExp(`^promoted wave 2: fleet/wave-2 ${wave2.applied.slice(0, 12)} -> ${w.change.commit.slice(0, 12)}, what wave 1 runs$`));
        expect(w.promotion.branchAfter).toBe(w.change.commit);
        expect(w.promotion.wave2).toMatchObject({ applied: w.change.commit, ready: true });
        expect(w.promotion.again.exitCode).toBe(1);
        expect(w.promotion.again.stderr).toContain(`cannot promote wave 2: nothing to promote: wave 2 (fleet/wave-2) already runs ${w.change.commit.slice(0, 12)}, what wave 1 runs.`);
        // A change that leaves wave 1 unhealthy holds the rollout: promote refuses, naming the
        // wave 1 cluster; the branch and wave 2 (commit and pods) are untouched.
        expect(w.unhealthy.wave1.lastAttempted).toBe(w.unhealthy.commit);
        expect(w.unhealthy.wave1.ready).not.toMatch(/^True/);
        expect(w.unhealthy.refusal.exitCode).toBe(1);
        expect(w.unhealthy.refusal.stderr).toContain('cannot promote wave 2: 1 of 1 clusters of wave 1 is not Ready:');
        expect(w.unhealthy.refusal.stderr).toContain(`  ${wave1.cluster}: Ready=`);
        expect(w.unhealthy.branchAfter).toBe(w.change.commit);
        expect(w.unhealthy.wave2).toMatchObject({ applied: w.change.commit, ready: true });
        expect(w.unhealthy.wave2SamePods).toBe(true);
      },
      10 * 60_000,
    );
  },
  [...CONTROL_PLANE_BINARIES, ...FLUX_BINARIES],
);

describeWithControlPlane(
  'npm run e2e: git push deploys through Argo CD',
  () => {
    it(
      'bootstraps from the ApplicationSet, rolls a setting, shows what Argo CD makes of a claim size and of its Replace options, prunes a removed overlay, uninstalls without touching a broker, and rolls the fleet out in waves',
      async () => {
        const { run: report } = await e2e<ArgoCdRun>('argocd');
        expect(report.stages).toHaveLength(10);

        // Nothing listened anywhere but loopback: the run's own network namespace has only `lo`, and
        // the one listener Argo CD binds to 0.0.0.0 (the application-controller's metrics) is in it.
        expect(report.network?.interfaces).toEqual(['lo']);
        // (Go's listener for "0.0.0.0:port" is the dual-stack `::`.)
        const wildcard = report.network!.listening.filter((l) => l.address !== '127.0.0.1');
        expect(wildcard.length, JSON.stringify(wildcard)).toBe(1);
        expect(['0.0.0.0', '::']).toContain(wildcard[0]!.address);

        // Bootstrap: the generator made one Application per overlay, each Synced and Healthy at the pushed commit.
        expect(report.bootstrap.applications.map((a) => a.name).sort()).toEqual(report.overlays.map((o) => `emqx-${o}`).sort());
        for (const a of report.bootstrap.applications) {
          expect(a, a.name).toMatchObject({ sync: 'Synced', health: 'Healthy', revision: report.bootstrap.commit, path: `overlays/${a.name.slice('emqx-'.length)}` });
        }
        for (const w of report.bootstrap.workloads) expect(w.readyPods, w.workload).toBeGreaterThan(0);

        // The EMQX setting: every workload on the new ConfigMap, on re-created pods.
        expect(report.configChange.diff.map((d) => d.overlay).sort()).toEqual([...report.overlays].sort());
        expect(report.configChange.rolled.length).toBe(report.overlays.length);
        for (const r of report.configChange.rolled) {
          expect(r.to).not.toEqual(r.from);
          expect(r.podsRecreated, r.workload).toBe(true);
          expect(r.podsOnNewConfigMap, r.workload).toBe(true);
        }

        // A claim size: diff warns on the StatefulSets; Argo CD applies nothing (the live template
        // keeps 10Gi); what it reports on the way is what docs/gitops.md says.
        const warned = report.immutable.diffWarnings.map((w) => w.overlay).sort();
        expect(warned).toContain('statefulset-hostname-pvc');
        expect(report.immutable.observed.map((o) => o.application).sort()).toEqual(warned.map((o) => `emqx-${o}`));
        for (const o of report.immutable.observed) {
          expect(o.liveClaimSize, o.application).toBe('10Gi');
          // Either the failed comparison, or (from Argo CD's diff cache) Synced at the new commit:
          // both are seen, run to run; neither applies anything.
          for (const state of o.states) expect(state, o.states.join(' -> ')).toMatch(SYNCED_OR_FAILED_COMPARISON);
        }
        // The orphan delete, then a refresh: a new StatefulSet with the new template, the same pods and claims, which keep 10Gi.
        expect(report.immutable.recovered.map((r) => r.workload).sort()).toEqual(warned.map((o) => `StatefulSet emqx-${o}/emqx`));
        for (const r of report.immutable.recovered) {
          expect(r).toMatchObject({ newStatefulSet: true, samePods: true, sameClaims: true, templateClaimSize: '20Gi' });
          for (const c of r.claimSizes) expect(c).toMatch(/=10Gi$/);
        }

        // Replace=true and Force=true,Replace=true, each with a sync: Argo CD applies nothing on the
        // push (as above); the sync runs anyway. Replace=true is refused like the apply;
        // Force=true,Replace=true deletes and recreates the StatefulSet: every broker at once, the same claims at their old size.
        expect(report.replace.map((t) => t.option)).toEqual(['Replace=true', 'Force=true,Replace=true']);
        const [replace, forceReplace] = report.replace as [ReplaceTry, ReplaceTry];
        for (const t of report.replace) expect(t.stateAfterPush, t.option).toMatch(SYNCED_OR_FAILED_COMPARISON);
        expect(replace.operationPhase).toBe('Failed');
        expect(replace.operationMessage).toMatch(/error when replacing[\s\S]*spec\.volumeClaimTemplates[\s\S]*field is immutable/);
        expect(replace).toMatchObject({ newStatefulSet: false, samePods: true, sameClaims: true, templateClaimSize: '20Gi' });
        expect(forceReplace.operationPhase).toBe('Succeeded');
        expect(forceReplace).toMatchObject({ newStatefulSet: true, everyPodReplaced: true, sameClaims: true, templateClaimSize: '40Gi' });
        for (const c of forceReplace.claimSizes) expect(c).toMatch(/=10Gi$/);

        // An overlay removed: its Application went, its finalizer pruned what it deployed; the namespace, the Secret and the claims stay.
        const ns = `emqx-${report.removal.overlay}`;
        expect(report.removal.finalizers).toContain('resources-finalizer.argocd.argoproj.io');
        expect(report.removal.pruned).toEqual(expect.arrayContaining([`StatefulSet ${ns}/emqx`, `PodDisruptionBudget ${ns}/emqx`, `Service ${ns}/emqx-headless`]));
        expect(report.removal.kept).toEqual(expect.arrayContaining([`Namespace ${ns}`, `Secret ${ns}/emqx-secrets`]));
        expect(report.removal.kept.filter((k) => k.startsWith('PersistentVolumeClaim ')).length).toBe(3);

        // The ApplicationSet deleted with --cascade=orphan: every Application and every broker stays.
        const remaining = report.overlays.filter((o) => o !== report.removal.overlay).map((o) => `emqx-${o}`).sort();
        expect(report.uninstall.applicationsKept.sort()).toEqual(remaining);
        expect(report.uninstall.ownerReferencesLeft).toEqual([]);
        expect(report.uninstall.workloads.length).toBe(remaining.length);
        for (const w of report.uninstall.workloads) expect(w, w.workload).toMatchObject({ samePods: true, ready: true });

        // The fleet: each cluster's Application on its own cluster, Synced and Healthy, brokers Ready
        // there; a cluster that leaves the inventory keeps its Application and its brokers (create-update).
        expect(report.fleet.clusters).toHaveLength(2);
        const [hub, spoke] = report.fleet.clusters as [FleetReport['clusters'][number], FleetReport['clusters'][number]];
        expect(hub.destination).toBe('https://kubernetes.default.svc');
        expect(spoke.destination).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        for (const c of report.fleet.clusters) {
          expect(c, c.cluster).toMatchObject({ sync: 'Synced', health: 'Healthy', destination: c.server, readyPods: 1 });
        }
        // Waves (RollingSync, --enable-progressive-syncs): the controller turns the template's
        // automated sync off on each Application; a change reaches wave 1 first, and wave 2's sync
        // starts only after the ApplicationSet marked wave 1 Healthy (server times, to the second).
        const w = report.fleet.waves;
        for (const a of [w.automated.wave1, w.automated.wave2]) expect(a).toMatchObject({ enabled: false, prune: true });
        expect(w.change.wave2WhenWave1Deployed.deployed).not.toBe(w.change.commit);
        expect(Date.parse(w.change.wave2SyncStartedAt)).toBeGreaterThanOrEqual(Date.parse(w.change.wave1HealthyAt));
        for (const a of [w.change.wave1, w.change.wave2]) expect(a, a.application).toMatchObject({ deployed: w.change.commit, sync: 'Synced', health: 'Healthy', progressive: expect.stringMatching(/^Healthy /) });
        // A change wave 1 never gets Healthy with: wave 1 runs it, unhealthy; wave 2 has seen it
        // (OutOfSync), still runs the change before, Waiting, on the same pods.
        expect(w.unhealthy.wave1).toMatchObject({ deployed: w.unhealthy.commit, health: expect.not.stringMatching(/^Healthy$/) });
        expect(w.unhealthy.wave2).toMatchObject({ deployed: w.change.commit, sync: 'OutOfSync', health: 'Healthy', progressive: 'Waiting (step 2)' });
        expect(w.unhealthy.wave2SamePods).toBe(true);
        expect(w.unhealthy.heldForSeconds).toBeGreaterThanOrEqual(30);
        expect(report.fleet.removed).toMatchObject({ cluster: spoke.cluster, applicationKept: true, samePods: true, ready: true });
      },
      15 * 60_000,
    );
  },
  [...CONTROL_PLANE_BINARIES, ...ARGOCD_BINARIES],
);
