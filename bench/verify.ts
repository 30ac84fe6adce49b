// npm run bench:verify: how long the ephemeral control plane takes to come up, and how long verify
// then takes for the four overlays (render, apply, replicas Ready, claims Bound, a pod recreated,
// discovery and RBAC as the pods' ServiceAccount), with each overlay's own share. One control
// plane, as `npm run verify` uses; the overlays are verified side by side as the command does.
import os from 'node:os';
import { startControlPlane } from '../scripts/lib/tools/control-plane/start.ts';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import { listOverlays } from '../scripts/lib/model/overlays.ts';
import { loadValidateConfig } from '../scripts/lib/validate/config.ts';
import { verifyTargets } from '../scripts/lib/verify/run.ts';
import { formatTable } from './lib/fixtures.ts';
import { EXIT_OK } from '../scripts/lib/cli/errors.ts';
import { runMain } from '../scripts/lib/cli/main.ts';

// Through runMain: a control plane that is not built is the set-up command, not a stack trace.
await runMain(async () => {
  const kustomize = await findKustomize();
  const overlays = listOverlays();
  const began = Date.now();
  const cp = await startControlPlane();
  const startMs = Date.now() - began;
  try {
    const perOverlay = new Map<string, string>();
    const started = Date.now();
    const reports = await verifyTargets(overlays, {
      kustomize,
      controlPlane: cp,
      externalSecrets: loadValidateConfig().externalSecrets,
      note: (line) => {
        const m = /^(\S+): \d+ objects verified in (\S+ s)$/.exec(line);
        if (m) perOverlay.set(m[1]!, m[2]!);
      },
    });
    const verifyMs = Date.now() - started;
    const findings = reports.flatMap((r) => r.findings).length;
    console.log(`${os.availableParallelism()} cores; ${overlays.length} overlays; ${findings} findings`);
    console.log(
      formatTable(
        ['step', 'time'],
        [
          ['control plane start (etcd, kube-apiserver, controller-manager, scheduler, kwok, 3 nodes)', `${(startMs / 1000).toFixed(1)} s`],
          [`verify ${overlays.map((o) => o.name).join(', ')} (CRDs, render, apply, waits, discovery)`, `${(verifyMs / 1000).toFixed(1)} s`],
          ...overlays.map((o) => [`  of which ${o.name} (apply and checks)`, perOverlay.get(o.name) ?? '?']),
          ['total', `${((startMs + verifyMs) / 1000).toFixed(1)} s`],
        ],
      ),
    );
  } finally {
    await cp.stop();
  }
  return EXIT_OK;
});
