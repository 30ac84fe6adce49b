// The pinned CRDs (Argo CD, Flux, cert-manager, External Secrets, Prometheus Operator) the set-up
// copied into .tools/control-plane/crds, installed once per control plane and waited for until
// Established, so that the overlays' custom objects and the GitOps folders are checked against
// the real CRDs rather than a schema derived from them.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { SETUP_COMMAND } from '../control-plane/binaries.ts';
import type { ControlPlane } from '../control-plane/start.ts';
import { ToolError } from '../errors.ts';
import { displayPath } from '../paths.ts';
import { CRDS_DIR } from '../setup-control-plane.ts';

const installed = new WeakSet<ControlPlane>();

export function crdFiles(root: string = CRDS_DIR): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

export async function installCrds(cp: ControlPlane, root: string = CRDS_DIR, timeoutSeconds = 60): Promise<number> {
  if (installed.has(cp)) return 0;
  const files = crdFiles(root);
  if (files.length === 0) throw new ToolError(`no CRDs in ${displayPath(root)}: the control-plane set-up did not finish.\nFix: run \`${SETUP_COMMAND}\` (it copies the pinned CRDs there).`);
  const out = await cp.kubectl(['apply', '--server-side', '--field-manager=verify', ...files.flatMap((f) => ['-f', f])]);
  if (out.exitCode !== 0) throw new ToolError(`installing the pinned CRDs from ${displayPath(root)} failed: ${out.stderr.trim()}`);
  const wait = await cp.kubectl(['wait', '--for=condition=Established', 'crd', '--all', `--timeout=${timeoutSeconds}s`]);
  if (wait.exitCode !== 0) throw new ToolError(`the pinned CRDs did not become Established in ${timeoutSeconds} s: ${wait.stderr.trim()}`);
  installed.add(cp);
  return files.length;
}
