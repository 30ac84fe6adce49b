// Argo CD as an e2e engine: the pinned repo-server, application-controller and
// applicationset-controller with Redis, bootstrapped from gitops/argocd, then the pushes an Argo CD
// user makes, in order.
import { ARGOCD_COMPONENTS, startArgoCd } from '../../tools/control-plane/argocd.ts';
import { pushSettingAndRoll, type ConfigChangeReport } from '../config-change.ts';
import type { E2eContext, Stage } from '../context.ts';
import type { Engine } from '../engine.ts';
import { E2E_SETTING } from '../pushes.ts';
import { overlayToRemove } from '../survivors.ts';
import { describeArgoCd } from './applications.ts';
import { bootstrapArgoCd, type ArgoBootstrapReport } from './bootstrap.ts';
import { claimSizeThroughArgoCd, type ArgoImmutableReport } from './claim-size.ts';
import { fleetOnTwoClusters, type FleetReport } from './fleet.ts';
import { removeOverlayThroughArgoCd, type ArgoRemovalReport } from './removal.ts';
import { tryReplaceOption, type ReplaceTry } from './replace.ts';
import { ARGOCD_SYNC } from './sync.ts';
import { uninstallApplicationSetKeepingBrokers, type ArgoUninstallReport } from './uninstall.ts';

export interface ArgoCdResults {
  readonly bootstrap: ArgoBootstrapReport;
  readonly configChange: ConfigChangeReport;
  readonly immutable: ArgoImmutableReport;
  readonly replace: readonly ReplaceTry[];
  readonly removal: ArgoRemovalReport;
  readonly uninstall: ArgoUninstallReport;
  readonly fleet: FleetReport;
}

export const ARGOCD_ENGINE: Engine<ArgoCdResults> = {
  name: 'argocd',
  title: 'Argo CD',
  components: ARGOCD_COMPONENTS,
  // Progressive syncs for the fleet's RollingSync waves (docs/fleet.md, "Argo CD: progressive
  // syncs"); the overlays' ApplicationSet has no strategy, which the flag leaves alone.
  start: (plane, waitMs) => startArgoCd(plane, { timeoutMs: waitMs, applicationSetArgs: ['--enable-progressive-syncs'] }),
  describe: (plane) => describeArgoCd(plane),
  run: async (ctx: E2eContext, stage: Stage) => {
    const bootstrap = await stage('bootstrap: prerequisites, `kubectl apply -k gitops/argocd`, every Application Synced and Healthy', () => bootstrapArgoCd(ctx));
    const configChange = await stage(`push: ${E2E_SETTING.key}=${E2E_SETTING.value} in base/emqx.env rolls every workload`, () => pushSettingAndRoll(ctx, ARGOCD_SYNC));
    const immutable = await stage('push: a new claim size in volumeClaimTemplates, then the orphan delete', () => claimSizeThroughArgoCd(ctx));
    const replace = [
      await stage('push: a claim size with `argocd.argoproj.io/sync-options: Replace=true`, then a sync', () => tryReplaceOption(ctx, 'Replace=true', '30Gi')),
      await stage('push: a claim size with `argocd.argoproj.io/sync-options: Force=true,Replace=true`, then a sync', () => tryReplaceOption(ctx, 'Force=true,Replace=true', '40Gi')),
    ];
    const removal = await stage('push: an overlay directory removed', () => removeOverlayThroughArgoCd(ctx));
    const remaining = ctx.overlays.filter((o) => o !== overlayToRemove(ctx.overlays));
    const uninstall = await stage('the ApplicationSet deleted with --cascade=orphan: every broker keeps running', () => uninstallApplicationSetKeepingBrokers(ctx, remaining));
    const fleet = await stage('the fleet on two clusters: the hub and a second control plane, changes in waves (RollingSync), then one cluster leaves the inventory', () => fleetOnTwoClusters(ctx));
    return { bootstrap, configChange, immutable, replace, removal, uninstall, fleet };
  },
};
