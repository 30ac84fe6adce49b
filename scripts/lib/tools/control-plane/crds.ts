// The pinned CRDs (Argo CD, Flux, cert-manager, External Secrets, Prometheus Operator), which the
// set-up copied into .tools/control-plane/crds/<module>/, installed on an ephemeral control plane
// and waited for until Established, so that the overlays' custom resources and the GitOps folders
// are checked by the server against the real CRDs. verify, diff --server and the e2e share this.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ToolError } from '../../cli/errors.ts';
import { displayPath } from '../../util/paths.ts';
import { CRDS_DIR } from '../../setup/setup-control-plane.ts';
import { SETUP_COMMAND } from './binaries.ts';
import { SETUP_FIELD_MANAGER } from './namespace.ts';
import type { ControlPlane } from './start.ts';

/** Every CRD file under `root`, in a stable order; none when the set-up has not copied them. */
export function pinnedCrdFiles(root: string = CRDS_DIR): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** Exit 2 naming the set-up command when the CRDs are not there. */
export function requirePinnedCrds(root: string = CRDS_DIR): string[] {
  const files = pinnedCrdFiles(root);
  if (files.length === 0) throw new ToolError(`the pinned CRDs are not in ${displayPath(root)}.\nFix: run \`${SETUP_COMMAND}\` once (it builds the control plane and copies the CRDs there).`);
  return files;
}

const installed = new WeakMap<ControlPlane, string[]>();

/**
 * Applies every pinned CRD once per control plane and waits (bounded) until all are Established.
 * Returns the files installed.
 */
export async function installPinnedCrds(cp: ControlPlane, root: string = CRDS_DIR, timeoutS = 60): Promise<string[]> {
  const done = installed.get(cp);
  if (done) return done;
  const files = requirePinnedCrds(root);
  // Server-side: some CRDs (Argo CD's ApplicationSet) are larger than the last-applied annotation allows.
  const out = await cp.kubectl(['apply', '--server-side', '--force-conflicts', `--field-manager=${SETUP_FIELD_MANAGER}`, ...files.flatMap((f) => ['-f', f])]);
  if (out.exitCode !== 0) throw new ToolError(`installing the pinned CRDs from ${displayPath(root)} failed: ${out.stderr.trim()}`);
  const wait = await cp.kubectl(['wait', '--for=condition=Established', 'customresourcedefinitions', '--all', `--timeout=${timeoutS}s`], { timeoutMs: (timeoutS + 10) * 1000 });
  if (wait.exitCode !== 0) throw new ToolError(`the pinned CRDs did not become Established in ${timeoutS} s: ${wait.stderr.trim()}`);
  installed.set(cp, files);
  return files;
}

/** The source modules a list of installed CRD files came from (their folder names). */
export function crdModules(files: readonly string[]): string[] {
  return [...new Set(files.map((f) => path.basename(path.dirname(f))))].sort();
}
