// Where the set-up put the control plane's binaries, and the one message for when they are missing.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ToolError } from '../../cli/errors.ts';
import { TOOLS_BIN } from '../../util/paths.ts';
import { SETUP_CONTROL_PLANE_BUILDS } from '../../setup/tool-versions.ts';

export type ControlPlaneBinary = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubectl' | 'kwok' | 'source-controller' | 'kustomize-controller' | 'argocd';

export const SETUP_COMMAND = 'npm run setup -- --control-plane';

/** What a control plane needs, and what each engine's end-to-end test needs on top. */
export const CONTROL_PLANE_BINARIES: readonly ControlPlaneBinary[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kwok'];
export const FLUX_BINARIES: readonly ControlPlaneBinary[] = ['source-controller', 'kustomize-controller'];
/** One multi-call binary: each Argo CD component is a link to it named after its role. */
export const ARGOCD_BINARIES: readonly ControlPlaneBinary[] = ['argocd'];

export function binaryPath(name: ControlPlaneBinary): string {
  return path.join(TOOLS_BIN, name);
}

export function missingBinaries(names: readonly ControlPlaneBinary[]): ControlPlaneBinary[] {
  return names.filter((n) => !existsSync(binaryPath(n)));
}

/** Exit 2 naming the set-up command, what is missing and what a cold build costs. */
export function requireBinaries(names: readonly ControlPlaneBinary[]): void {
  const missing = missingBinaries(names);
  if (missing.length === 0) return;
  const versions = SETUP_CONTROL_PLANE_BUILDS.filter((b) => Object.values(b.binaries).some((n) => missing.includes(n as ControlPlaneBinary))).map((b) => `${b.module}@${b.version}`);
  throw new ToolError(
    `the control plane is not built: ${missing.map((m) => path.relative(process.cwd(), binaryPath(m)) || m).join(', ')} missing (${versions.join(', ')}).\n` +
      `Fix: run \`${SETUP_COMMAND}\` once (it builds them with Go from the module proxy; a cold build takes about 20 minutes on 2 cores).`,
  );
}
