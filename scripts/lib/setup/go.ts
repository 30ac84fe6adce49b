// The one wrapper around the Go toolchain. The set-up uses Go to fetch pinned modules (for the
// files they carry) and to build pinned upstream programs; nothing after the set-up runs Go.
import os from 'node:os';
import { $, which } from 'zx/core';
import { ToolError } from '../cli/errors.ts';

export interface ModulePin {
  readonly module: string;
  readonly version: string;
  /** GOTOOLCHAIN for this module (its go.mod asks for a newer Go): the go command fetches it once. */
  readonly toolchain?: string;
}

/** The environment that selects a pin's toolchain; none keeps the Go on PATH. */
export function toolchainEnv(pin: { readonly toolchain?: string }): Record<string, string> {
  return pin.toolchain ? { GOTOOLCHAIN: pin.toolchain } : {};
}

export interface DownloadedModule {
  /** The module's files in Go's module cache (read-only). */
  readonly dir: string;
  /** Its go.mod as published. */
  readonly goMod: string;
}

const PROXY_FIX = 'Fix: the set-up needs the Go module proxy (or GOPROXY pointing at a mirror) once; then run `npm run setup` again.';

export async function findGo(purpose: string): Promise<string> {
  const go = await which('go', { nothrow: true });
  if (!go) {
    throw new ToolError(`Go is needed to ${purpose}, and it is not on PATH.\nFix: install Go (https://go.dev/dl) and run \`npm run setup\` again.`);
  }
  return go;
}

/**
 * `go mod download -json MODULE@VERSION`: fetches the module into Go's module cache (once; later
 * calls are answered from the cache). Run outside any module so that no go.mod is read or changed.
 */
export async function downloadModule(pin: ModulePin): Promise<DownloadedModule> {
  const go = await findGo(`fetch ${pin.module}@${pin.version}`);
  const out = await $({ quiet: true, nothrow: true, cwd: os.tmpdir(), env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'on', ...toolchainEnv(pin) } })`${go} mod download -json ${`${pin.module}@${pin.version}`}`;
  let info: { Dir?: string; GoMod?: string; Error?: string } = {};
  try {
    info = JSON.parse(out.stdout) as typeof info;
  } catch {
    // handled below
  }
  if (out.exitCode !== 0 || !info.Dir || !info.GoMod) {
    throw new ToolError(`go mod download ${pin.module}@${pin.version} failed: ${info.Error ?? out.stderr.trim()}\n${PROXY_FIX}`);
  }
  return { dir: info.Dir, goMod: info.GoMod };
}

/** Runs `go ARGS` in `cwd`; a failure is a ToolError carrying the tail of Go's output. */
export async function runGo(cwd: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<void> {
  const go = await findGo('build the pinned tools');
  const out = await $({ quiet: true, nothrow: true, cwd, env: { ...process.env, GO111MODULE: 'on', ...env } })`${go} ${args}`;
  if (out.exitCode !== 0) {
    const tail = out.stderr.trim().split('\n').slice(-25).join('\n');
    throw new ToolError(`go ${args.slice(0, 2).join(' ')} failed in ${cwd} (exit ${out.exitCode}):\n${tail}\n${PROXY_FIX}`);
  }
}

/**
 * Refuses a Go older than `minimum` (`1.26`) before a long build starts: Kubernetes 1.37 and Flux 1.9
 * say `go 1.26` in their go.mod, and an older Go would try to download a newer toolchain, which an
 * air-gapped machine cannot.
 */
export async function requireGoVersion(minimum: string, purpose: string): Promise<string> {
  const go = await findGo(purpose);
  const out = await $({ quiet: true, nothrow: true })`${go} env GOVERSION`;
  const version = out.stdout.trim();
  const [major = 0, minor = 0] = (/^go(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  const [wantMajor = 0, wantMinor = 0] = minimum.split('.').map(Number);
  if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
    throw new ToolError(`${purpose} needs Go ${minimum} or later; this is ${version || 'an unknown Go'}.\nFix: install Go ${minimum} or later (https://go.dev/dl) and run the set-up again.`);
  }
  return version;
}

export interface Replace {
  readonly from: string;
  /** A module path with `@version`, or a local path (`./api`). */
  readonly to: string;
}

/** The replace directives of a go.mod, single-line and in blocks (versions on the left are dropped). */
export function parseReplaces(goMod: string): Replace[] {
  const replaces: Replace[] = [];
  let inBlock = false;
  for (const raw of goMod.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (!line) continue;
    if (inBlock) {
      if (line === ')') inBlock = false;
      else pushReplace(line);
      continue;
    }
    if (/^replace\s*\($/.test(line)) inBlock = true;
    else if (line.startsWith('replace ')) pushReplace(line.slice('replace '.length));
  }
  return replaces;

  function pushReplace(spec: string): void {
    const [left, right] = spec.split('=>').map((s) => s.trim().split(/\s+/));
    if (!left?.[0] || !right?.[0]) return;
    replaces.push({ from: left[0], to: right.length > 1 ? `${right[0]}@${right[1]}` : right[0] });
  }
}
