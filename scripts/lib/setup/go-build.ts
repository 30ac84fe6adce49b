// Builds the pinned upstream programs that `go install module@version` cannot build because their
// go.mod has replace directives (Kubernetes, Flux's controllers): in a throw-away wrapper module
// under .tools/build/<id> that requires the module and repeats its replaces in a form that resolves
// from the module proxy. Go's build cache is shared, so a rebuild after a version bump is warm.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { downloadModule, parseReplaces, runGo, toolchainEnv, type Replace } from './go.ts';
import type { PinnedGoBuild } from './tool-versions.ts';

export function goBuildStamp(bin: string, build: PinnedGoBuild): string {
  return path.join(bin, `.${build.id}.version`);
}

function stampText(build: PinnedGoBuild): string {
  return `${build.module}@${build.version} ${Object.values(build.binaries).join(',')}${build.toolchain ? ` ${build.toolchain}` : ''}\n`;
}

export async function isBuilt(bin: string, build: PinnedGoBuild): Promise<boolean> {
  const stamp = goBuildStamp(bin, build);
  if (!existsSync(stamp) || !Object.values(build.binaries).every((b) => existsSync(path.join(bin, b)))) return false;
  return (await readFile(stamp, 'utf8')) === stampText(build);
}

/** The `-replace` arguments the wrapper module needs, from the module's own go.mod. */
export function wrapperReplaces(build: PinnedGoBuild, moduleReplaces: readonly Replace[]): string[] {
  const out = new Map<string, string>();
  for (const r of moduleReplaces) {
    const local = r.to.startsWith('./') || r.to.startsWith('../');
    if (build.replaces === 'kubernetes-staging') {
      if (local && r.to.startsWith('./staging/')) out.set(r.from, `${r.from}@${build.stagingVersion}`);
    } else if (build.replaces === 'copy') {
      // A local replace points into the module itself (./api): the published submodule at the same version.
      out.set(r.from, local ? `${r.from}@${build.version}` : r.to);
    }
  }
  for (const [from, version] of Object.entries(build.extraReplaces ?? {})) out.set(from, `${from}@${version}`);
  return [...out].map(([from, to]) => `-replace=${from}=${to}`);
}

/**
 * Builds every binary of `build` into `bin` (each written under a temporary name and renamed, so
 * an interrupted build never leaves a half-written binary), then stamps it.
 */
export async function buildPinned(bin: string, workRoot: string, build: PinnedGoBuild, onBinary: (name: string, seconds: number) => void = () => {}): Promise<void> {
  let since = Date.now();
  const work = path.join(workRoot, build.id);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  await mkdir(bin, { recursive: true });
  // A build's own toolchain (Argo CD's go1.27.3) applies to this build only.
  const env = { CGO_ENABLED: '0', GOFLAGS: '-mod=mod', ...toolchainEnv(build) };
  await runGo(work, ['mod', 'init', `emqx-gitops.local/build/${build.id}`], env);
  const { goMod } = await downloadModule(build);
  const replaces = wrapperReplaces(build, parseReplaces(await readFile(goMod, 'utf8')));
  if (replaces.length > 0) await runGo(work, ['mod', 'edit', ...replaces], env);
  const packages = Object.keys(build.binaries);
  await runGo(work, ['get', ...packages.map((p) => `${p}@${build.version}`)], env);
  for (const [pkg, name] of Object.entries(build.binaries)) {
    const partial = path.join(bin, `.${name}.partial`);
    await runGo(work, ['build', '-trimpath', ...(build.ldflags ? ['-ldflags', build.ldflags] : []), '-o', partial, pkg], env);
    await rename(partial, path.join(bin, name));
    // The first binary's time includes fetching the modules; later ones reuse its compiled packages.
    onBinary(name, (Date.now() - since) / 1000);
    since = Date.now();
  }
  await writeFile(goBuildStamp(bin, build), stampText(build));
  await rm(work, { recursive: true, force: true });
}
