// `npm run setup -- --control-plane`: builds the pinned control plane, Flux's controllers and Argo CD
// into .tools/bin, and copies the files they need at run time (kwok's stage files, every CRD that
// verify and e2e install, Argo CD's git and gpg wrapper scripts) into .tools/control-plane, so that
// nothing after the set-up touches the network. It also checks that redis-server is installed.
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { which } from 'zx/core';
import { buildPinned, isBuilt } from './go-build.ts';
import { downloadModule, requireGoVersion } from './go.ts';
import { TOOLS_DIR } from '../util/paths.ts';
import { ToolError } from '../cli/errors.ts';
import { ARGOCD_BUILD, CONTROL_PLANE_BUILDS, CRD_SOURCES, SETUP_CONTROL_PLANE_BUILDS, type PinnedGoBuild } from './tool-versions.ts';

export const CONTROL_PLANE_FILES = path.join(TOOLS_DIR, 'control-plane');
/** kwok's stage files (node-initialize, pod-ready, ...), as the kwok module ships them. */
export const KWOK_STAGES_DIR = path.join(CONTROL_PLANE_FILES, 'kwok-stages');
/** Every CRD a verify or e2e cluster gets, one folder per source module. */
export const CRDS_DIR = path.join(CONTROL_PLANE_FILES, 'crds');
/**
 * Put on the repo-server's PATH: Argo CD v3.6 runs `git-verify-wrapper.sh` on every manifest
 * generation (and fails every Application with a bare "permission denied" without it); both ship in
 * the argo-cd module under hack/, as its container image installs them.
 */
export const ARGOCD_PATH_DIR = path.join(CONTROL_PLANE_FILES, 'argocd-path');
export const ARGOCD_WRAPPERS = ['git-verify-wrapper.sh', 'gpg-wrapper.sh'] as const;
/** Argo CD's cache (the e2e's redis-server); the set-up does not build it: Debian's package is the real server. */
export const REDIS_INSTALL = 'apt-get install redis-server';

/** The `redis-server` on PATH, or exit 2 naming how to install it. */
export async function requireRedisServer(): Promise<string> {
  const found = await which('redis-server', { nothrow: true });
  if (found) return found;
  throw new ToolError(`redis-server is not installed; Argo CD's controllers need it as their cache.\nFix: \`${REDIS_INSTALL}\` (Debian or Ubuntu, as root), or put a redis-server on PATH; then run the command again.`);
}

const BUILD_WORK = path.join(TOOLS_DIR, 'build');
/** The `go` line of k8s.io/kubernetes v1.37 and of Flux v1.9's go.mod. */
const CONTROL_PLANE_GO = '1.26';

/** The kwok stages verify runs: nodes become Ready and keep a lease, pods run, complete and go away. */
export const KWOK_STAGES = ['node/fast/node-initialize.yaml', 'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml', 'pod/fast/pod-ready.yaml', 'pod/fast/pod-complete.yaml', 'pod/fast/pod-delete.yaml'];

/** Flux's controllers wait for every kind they watch: all their CRDs, not just the ones validate checks. */
const FLUX_CRD_DIRS: Readonly<Record<string, string>> = {
  'github.com/fluxcd/source-controller': 'config/crd/bases',
  'github.com/fluxcd/kustomize-controller': 'config/crd/bases',
};

export type BuildReport = { readonly build: PinnedGoBuild; readonly binary: string; readonly outcome: 'present' | 'built'; readonly seconds: number };

export async function setUpControlPlane(bin: string, onStart: (b: PinnedGoBuild) => void, onDone: (r: BuildReport) => void): Promise<void> {
  // Before a build of many minutes: the one thing the set-up cannot install itself.
  await requireRedisServer();
  let goChecked = false;
  for (const build of SETUP_CONTROL_PLANE_BUILDS) {
    if (await isBuilt(bin, build)) {
      for (const binary of Object.values(build.binaries)) onDone({ build, binary, outcome: 'present', seconds: 0 });
      continue;
    }
    if (!goChecked) {
      await requireGoVersion(CONTROL_PLANE_GO, 'building the control plane');
      goChecked = true;
    }
    onStart(build);
    await buildPinned(bin, BUILD_WORK, build, (binary, seconds) => onDone({ build, binary, outcome: 'built', seconds }));
  }
  await copyRunTimeFiles();
}

/** Copied into a staging folder and renamed into place, so a failed copy leaves the old files. */
async function copyRunTimeFiles(): Promise<void> {
  const stamp = path.join(CONTROL_PLANE_FILES, '.version');
  if (existsSync(stamp) && (await readFile(stamp, 'utf8')) === runTimeFilesStamp()) return;
  const staging = `${CONTROL_PLANE_FILES}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  const kwok = CONTROL_PLANE_BUILDS.find((b) => b.id === 'kwok');
  if (!kwok) throw new Error('CONTROL_PLANE_BUILDS has no kwok');
  const kwokDir = (await downloadModule(kwok)).dir;
  for (const stage of KWOK_STAGES) {
    await mkdir(path.dirname(path.join(staging, 'kwok-stages', stage)), { recursive: true });
    await cp(path.join(kwokDir, 'kustomize', 'stage', stage), path.join(staging, 'kwok-stages', stage));
  }
  for (const source of CRD_SOURCES) {
    const { dir } = await downloadModule(source);
    const into = path.join(staging, 'crds', source.module.replaceAll('/', '_'));
    await mkdir(into, { recursive: true });
    const fluxDir = FLUX_CRD_DIRS[source.module];
    const files = fluxDir ? (await readdir(path.join(dir, fluxDir))).filter((f) => f.endsWith('.yaml')).map((f) => `${fluxDir}/${f}`) : source.files;
    for (const file of files) await cp(path.join(dir, file), path.join(into, path.basename(file)));
  }
  const argocdDir = (await downloadModule(ARGOCD_BUILD)).dir;
  await mkdir(path.join(staging, 'argocd-path'), { recursive: true });
  // The module cache is read-only: copy the scripts with their execute bit, writable for the next copy.
  for (const wrapper of ARGOCD_WRAPPERS) {
    const into = path.join(staging, 'argocd-path', wrapper);
    await cp(path.join(argocdDir, 'hack', wrapper), into);
    await chmod(into, 0o755);
  }
  await writeFile(path.join(staging, '.version'), runTimeFilesStamp());
  if (existsSync(CONTROL_PLANE_FILES)) await rm(CONTROL_PLANE_FILES, { recursive: true, force: true });
  await rename(staging, CONTROL_PLANE_FILES);
}

/** What the copied files came from: a bump of kwok or of a CRD source copies them again. */
function runTimeFilesStamp(): string {
  const kwok = CONTROL_PLANE_BUILDS.find((b) => b.id === 'kwok');
  return [`${kwok?.module}@${kwok?.version}`, ...KWOK_STAGES, ...CRD_SOURCES.map((s) => `${s.module}@${s.version}:${s.files.join(',')}`), `${ARGOCD_BUILD.module}@${ARGOCD_BUILD.version}:${ARGOCD_WRAPPERS.join(',')}`].join('\n') + '\n';
}
