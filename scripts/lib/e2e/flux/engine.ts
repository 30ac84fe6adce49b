// Flux as an e2e engine: the pinned source- and kustomize-controller, bootstrapped from
// gitops/flux, then the pushes a Flux user makes, in order.
import type { E2eContext, Stage } from '../context.ts';
import { pushSettingAndRoll, type ConfigChangeReport } from '../config-change.ts';
import type { Engine } from '../engine.ts';
import { E2E_SETTING } from '../pushes.ts';
import { bootstrapFlux, type FluxBootstrapReport } from './bootstrap.ts';
import { claimSizeThroughFlux, type FluxImmutableReport } from './claim-size.ts';
import { describeFlux, FLUX_CONTROLLERS, startFluxControllers } from './controllers.ts';
import { fluxForce, type FluxForceReport } from './force.ts';
import { removeOverlayThroughFlux, type FluxRemovalReport } from './removal.ts';
import { FLUX_SYNC } from './sync.ts';
import { fluxWavesOnTwoClusters, type FluxWavesReport } from './waves.ts';

export interface FluxResults {
  readonly bootstrap: FluxBootstrapReport;
  readonly configChange: ConfigChangeReport;
  readonly immutable: FluxImmutableReport;
  /** Flux's force, which docs/gitops.md warns against: it gets an immutable change through by recreating the StatefulSet. */
  readonly force: FluxForceReport;
  readonly removal: FluxRemovalReport;
  /** The fleet in two waves on two more clusters: wave 2 follows only after `npm run fleet -- promote`. */
  readonly waves: FluxWavesReport;
}

export const FLUX_ENGINE: Engine<FluxResults> = {
  name: 'flux',
  title: 'Flux',
  components: FLUX_CONTROLLERS,
  start: (plane, waitMs) => startFluxControllers(plane, waitMs),
  describe: (plane) => describeFlux(plane),
  run: async (ctx: E2eContext, stage: Stage) => ({
    bootstrap: await stage('bootstrap: prerequisites, `kubectl apply -k gitops/flux`, every overlay Ready', () => bootstrapFlux(ctx)),
    configChange: await stage(`push: ${E2E_SETTING.key}=${E2E_SETTING.value} in base/emqx.env rolls every workload`, () => pushSettingAndRoll(ctx, FLUX_SYNC)),
    immutable: await stage('push: a new claim size in volumeClaimTemplates, then the documented remedy', () => claimSizeThroughFlux(ctx)),
    force: await stage("push: a claim size with Flux's force (`kustomize.toolkit.fluxcd.io/force: enabled`)", () => fluxForce(ctx)),
    removal: await stage('push: an overlay directory removed (and `npm run gitops:flux`)', () => removeOverlayThroughFlux(ctx)),
    waves: await stage('the fleet in two waves on two clusters: a change reaches wave 1, `npm run fleet -- promote --wave 2` brings wave 2, an unhealthy wave 1 holds it', () => fluxWavesOnTwoClusters(ctx)),
  }),
};
