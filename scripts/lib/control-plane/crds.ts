// The pinned CRDs (copied into .tools/control-plane/crds by the set-up) on the ephemeral control
// plane, so that the overlays' custom resources (Certificate, PodMonitor, ExternalSecret, ...) are
// checked by the server like every built-in kind.
import { existsSync } from 'node:fs';
import { ToolError } from '../errors.ts';
import { CRDS_DIR } from '../setup-control-plane.ts';
import { SETUP_COMMAND } from './binaries.ts';
import { SETUP_FIELD_MANAGER } from './namespace.ts';
import type { ControlPlane } from './start.ts';

/** Applies every CRD under `dir` and waits (bounded) until each is Established. */
export async function installPinnedCrds(cp: ControlPlane, dir: string = CRDS_DIR, timeoutS = 60): Promise<void> {
  if (!existsSync(dir)) throw new ToolError(`the pinned CRDs are not in ${dir}.\nFix: run \`${SETUP_COMMAND}\` once (it copies them there).`);
  // Server-side: some CRDs (Argo CD's ApplicationSet) are larger than the last-applied annotation allows.
  await cp.kubectlOk(['apply', '--server-side', `--field-manager=${SETUP_FIELD_MANAGER}`, '--recursive', '-f', dir]);
  await cp.kubectlOk(['wait', '--for=condition=Established', 'customresourcedefinitions', '--all', `--timeout=${timeoutS}s`], { timeoutMs: (timeoutS + 10) * 1000 });
}
