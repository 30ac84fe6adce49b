// `npm run e2e` as CI runs it: the command itself (scripts/e2e.ts, --format json), with assertions
// on what each push did; CI runs it here, in `npm test`, and nowhere else. Runs whenever the control
// plane and Flux are built (npm run setup -- --control-plane); skipped with one line otherwise, and
// failing under CI=true (test/helpers/control-plane.ts).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { E2eReport } from '../scripts/lib/e2e/run.ts';
import { CONTROL_PLANE_BINARIES, describeWithControlPlane, FLUX_BINARIES } from './helpers/control-plane.ts';
import { runScript } from './helpers/run.ts';

describe('npm run e2e: arguments', () => {
  it('refuses an unknown format or argument with exit 2 and the usage', async () => {
    const bad = await runScript('e2e.ts', ['--format', 'xml']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--format xml: use text or json[\s\S]*usage: npm run e2e/);
    expect((await runScript('e2e.ts', ['overlays/single-node'])).exitCode).toBe(2);
  });
});

describeWithControlPlane(
  'npm run e2e: git push deploys through Flux',
  () => {
    it(
      'bootstraps, rolls a setting, survives a volumeClaimTemplates change and prunes a removed overlay',
      async () => {
        const out = await runScript('e2e.ts', ['--format', 'json']);
        expect(out.exitCode, out.stderr.slice(-4000)).toBe(0);
        const report = JSON.parse(out.stdout) as E2eReport;

        // Every stage ran and said how long it took; everything was torn down.
        expect(report.stages).toHaveLength(7);
        for (const s of report.stages) expect(out.stderr).toContain(`✔ ${s.name} (${s.seconds.toFixed(1)} s`);
        expect(out.stderr).toMatch(/✔ tear down \(/);
        expect(existsSync(report.dir)).toBe(false);

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
        // is replaced at once (README, "When the diff warns of an immutable field"); the claims stay.
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
      },
      10 * 60_000,
    );
  },
  [...CONTROL_PLANE_BINARIES, ...FLUX_BINARIES],
);
