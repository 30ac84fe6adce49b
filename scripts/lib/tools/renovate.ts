// The pinned Renovate (scripts/lib/setup/renovate/), run on the Node 24 the set-up installed beside
// it, in extract mode: it reads the repository's renovate.json and files and writes what it found
// to a report file, and looks nothing up. Every run gets a fresh base directory and an empty global
// config, and an environment without tokens, so nothing from the machine changes what it extracts
// and nothing could authenticate anywhere.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx/core';
import { ToolError } from '../cli/errors.ts';
import { isRenovateInstalled, pinnedRenovate, RENOVATE_DIR, RENOVATE_SETUP_COMMAND, renovateInstallation, type RenovateInstallation } from '../setup/setup-renovate.ts';
import { displayPath } from '../util/paths.ts';

export interface Renovate extends RenovateInstallation {
  readonly version: string;
}

/** One dependency as Renovate's report lists it (the fields the kit reads). */
export interface RenovateDep {
  readonly depName?: string;
  readonly packageName?: string;
  readonly currentValue?: string;
  readonly currentDigest?: string;
  readonly datasource?: string;
  readonly depType?: string;
  readonly skipReason?: string;
}

/** Renovate's `--report-type=file` report, reduced to what the kit reads. */
export interface RenovateReport {
  readonly problems: ReadonlyArray<{ readonly level: number; readonly msg: string }>;
  readonly repositories: Readonly<Record<string, { readonly packageFiles: Readonly<Record<string, ReadonlyArray<{ readonly packageFile: string; readonly deps: readonly RenovateDep[] }>>> }>>;
}

const SETUP_FIX = `Fix: run \`${RENOVATE_SETUP_COMMAND}\` once (it installs Renovate and the Node 24 it runs on from the npm registry, about 530 MB); \`npm run deps\` then works offline.`;

/** The installed Renovate at the pinned version, or a ToolError (exit 2) with the set-up command. */
export async function findRenovate(dir: string = RENOVATE_DIR): Promise<Renovate> {
  const at = renovateInstallation(dir);
  if (!existsSync(at.entry)) throw new ToolError(`Renovate is not installed in ${displayPath(dir)}.\n${SETUP_FIX}`);
  if (!(await isRenovateInstalled(dir))) throw new ToolError(`Renovate in ${displayPath(dir)} is not the one scripts/lib/setup/renovate/ pins (a bump since the set-up ran).\n${SETUP_FIX}`);
  if (!existsSync(at.node)) throw new ToolError(`Node 24 is missing from ${displayPath(dir)} (npm has no ${pinnedRenovate().nodePackage} package for this machine, or it was removed).\n${SETUP_FIX}`);
  return { ...at, version: pinnedRenovate().renovate };
}

/** The environment Renovate runs in: the machine's, without any Renovate setting or token. */
function cleanEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(RENOVATE_|GITHUB_|GH_|GITLAB_|NPM_TOKEN|LOG_)/i.test(key) || /TOKEN|PASSWORD|SECRET/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * `renovate --platform=local` in `repo` with RENOVATE_DRY_RUN=extract: the dependencies Renovate
 * finds in the files git tracks there, per manager. A ToolError (exit 2) when it fails or its
 * report does not parse.
 */
export async function extractDependencies(renovate: Renovate, repo: string, timeoutMs = 180_000): Promise<RenovateReport> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'emqx-gitops-renovate-'));
  try {
    const globalConfig = path.join(work, 'global.json');
    const report = path.join(work, 'report.json');
    await writeFile(globalConfig, '{}\n');
    const env = cleanEnv({
      RENOVATE_PLATFORM: 'local',
      RENOVATE_DRY_RUN: 'extract',
      RENOVATE_REPORT_TYPE: 'file',
      RENOVATE_REPORT_PATH: report,
      RENOVATE_BASE_DIR: path.join(work, 'base'),
      RENOVATE_CONFIG_FILE: globalConfig,
      // The repository's renovate.json is the configuration; without one, fail instead of onboarding.
      RENOVATE_REQUIRE_CONFIG: 'required',
      // re2 is a native module the set-up does not build (it would download it from GitHub):
      // JavaScript regular expressions are used instead, without the warning.
      RENOVATE_X_IGNORE_RE2: 'true',
      LOG_LEVEL: 'error',
      LOG_FORMAT: 'json',
    });
    const out = await $({ quiet: true, nothrow: true, cwd: repo, env, timeout: timeoutMs })`${renovate.node} ${renovate.entry}`;
    const tail = `${out.stdout}\n${out.stderr}`.trim().split('\n').slice(-12).join('\n');
    if (out.exitCode !== 0) throw new ToolError(`Renovate ${renovate.version} failed in ${displayPath(repo)} (exit ${out.exitCode ?? out.signal}):\n${tail}`);
    if (!existsSync(report)) throw new ToolError(`Renovate ${renovate.version} wrote no report in ${displayPath(repo)}:\n${tail}`);
    let parsed: RenovateReport;
    try {
      parsed = JSON.parse(await readFile(report, 'utf8')) as RenovateReport;
    } catch (error) {
      throw new ToolError(`Renovate ${renovate.version}'s report does not parse: ${error instanceof Error ? error.message : String(error)}`);
    }
    // Level 50 and above are errors (bunyan levels): a manager that failed extracted nothing.
    const errors = (parsed.problems ?? []).filter((p) => p.level >= 50);
    if (errors.length > 0) throw new ToolError(`Renovate ${renovate.version} reported errors in ${displayPath(repo)}:\n${errors.map((p) => `  ${p.msg}`).join('\n')}`);
    return parsed;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** `renovate-config-validator --strict --no-global FILE` (as repository config, which it is): the validator's messages, empty when the file is valid. */
export async function validateConfig(renovate: Renovate, file: string, timeoutMs = 60_000): Promise<string[]> {
  const env = cleanEnv({ RENOVATE_X_IGNORE_RE2: 'true', LOG_LEVEL: 'info' });
  const out = await $({ quiet: true, nothrow: true, env, timeout: timeoutMs })`${renovate.node} ${renovate.validator} --strict --no-global ${file}`;
  if (out.exitCode === 0) return [];
  const lines = `${out.stdout}\n${out.stderr}`.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  if (out.exitCode !== 1) throw new ToolError(`renovate-config-validator ${renovate.version} failed on ${displayPath(file)} (exit ${out.exitCode ?? out.signal}):\n${lines.slice(-12).join('\n')}`);
  return lines;
}
