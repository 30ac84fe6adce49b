// The one wrapper around the kustomize binary. Everything that renders goes through here.
import path from 'node:path';
import { $, which } from 'zx/core';
import { ToolError } from '../cli/errors.ts';
import { KUSTOMIZE } from '../setup/tool-versions.ts';
import { findPinnedBinary, pinnedPath } from './pinned-binary.ts';

export type KustomizeSource = 'pinned' | 'path' | 'kubectl';

export interface Kustomize {
  /**
   * The argv that renders a directory once the directory is appended: `[kustomize, 'build']`, or
   * `[kubectl, 'kustomize']` (which takes no `build` subcommand).
   */
  readonly build: readonly string[];
  /** As the binary reports it, e.g. `v5.8.1`. */
  readonly version: string;
  readonly source: KustomizeSource;
}

export type KustomizeBuildResult =
  | { readonly ok: true; readonly yaml: string }
  | { readonly ok: false; readonly message: string };

export interface BuildOptions {
  /** Extra `kustomize build` flags, e.g. `['--load-restrictor', 'LoadRestrictionsNone']`. */
  readonly flags?: readonly string[];
}

const quiet = $({ quiet: true, nothrow: true });

/**
 * Finds kustomize: the pinned one the set-up installed, else `kustomize` on PATH, else
 * `kubectl kustomize`. Anything but the pinned one may render differently from Argo CD or Flux, so
 * callers tell the user which version they got (see `describeKustomize`).
 */
export async function findKustomize(): Promise<Kustomize> {
  const found = await findPinnedBinary(KUSTOMIZE, { args: ['version'], parse: parseKustomizeVersion });
  if (found) return { build: [found.binary, 'build'], version: found.version, source: found.source };
  const kubectl = await which('kubectl', { nothrow: true });
  if (kubectl) {
    const out = await quiet`${kubectl} version --client -o json`;
    const version = out.exitCode === 0 ? parseKubectlKustomizeVersion(out.stdout) : undefined;
    if (version) return { build: [kubectl, 'kustomize'], version, source: 'kubectl' };
  }
  const pinned = pinnedPath(KUSTOMIZE);
  throw new ToolError(
    `kustomize not found: neither ${path.relative(process.cwd(), pinned) || pinned}, nor kustomize or kubectl on PATH.\n` +
      `Fix: run \`npm ci\` (or \`npm run setup\`), which installs kustomize ${KUSTOMIZE.version} with Go; ` +
      'or put kustomize on PATH.',
  );
}

/** One line saying which kustomize runs, and a warning when it is not the pinned one. */
export function describeKustomize(k: Kustomize): string | undefined {
  if (k.source === 'pinned' && k.version === KUSTOMIZE.version) return undefined;
  const how = k.source === 'kubectl' ? 'kubectl kustomize' : k.source === 'path' ? `kustomize on PATH (${k.build[0]})` : `${k.build[0]}`;
  return (
    `warning: rendering with ${how}, version ${k.version}; the pinned version is ${KUSTOMIZE.version} ` +
    `(${KUSTOMIZE.why}). Run \`npm run setup\` to install it.`
  );
}

/** `kustomize build DIR`. A failure is an answer (the overlay is broken), not an exception. */
export async function kustomizeBuild(k: Kustomize, dir: string, options: BuildOptions = {}): Promise<KustomizeBuildResult> {
  const out = await quiet`${buildArgv(k, dir, options.flags)}`;
  if (out.exitCode === 0) return { ok: true, yaml: out.stdout };
  if (out.exitCode === null || out.exitCode > 1) {
    // kustomize reports bad input with exit 1; anything else (a signal, a crash) is the tool's fault.
    const why = out.exitCode === null ? `was killed (${out.signal ?? 'unknown signal'})` : `exited ${out.exitCode}`;
    throw new ToolError(`kustomize (${k.build.join(' ')}) ${why} while building ${dir}:\n${out.stderr.trim()}`);
  }
  return { ok: false, message: cleanKustomizeMessage(out.stderr) };
}

/** The full argv of one render: the build prefix, extra flags, the directory. */
export function buildArgv(k: Kustomize, dir: string, flags: readonly string[] = []): string[] {
  return [...k.build, ...flags, dir];
}

/** `v5.8.1`, or the old `{Version:kustomize/v4.5.7 GitCommit:...}` form. */
export function parseKustomizeVersion(text: string): string | undefined {
  return /v\d+\.\d+\.\d+(?:[-+][\w.]+)?/.exec(text)?.[0];
}

export function parseKubectlKustomizeVersion(json: string): string | undefined {
  try {
    const parsed = JSON.parse(json) as { kustomizeVersion?: unknown };
    return typeof parsed.kustomizeVersion === 'string' ? parsed.kustomizeVersion : undefined;
  } catch {
    return undefined;
  }
}

/** kustomize prints `Error: ...` and sometimes usage text; keep only the error. */
export function cleanKustomizeMessage(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  const start = lines.findIndex((line) => line.startsWith('Error: '));
  const kept = start >= 0 ? lines.slice(start) : lines;
  const text = kept.join('\n').replace(/^Error: /, '').trim();
  return text || 'kustomize failed without a message';
}
