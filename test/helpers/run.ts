// Runs a repository command the way `npm run <command>` does (node scripts/run.mjs, from the repo
// root) and returns what the user sees. run.mjs starts the set-up's bundle when none of its
// sources changed since it was built, else the TypeScript sources under tsx: a test always runs
// what the sources say, and a fresh clone pays about 0.15 s a start instead of tsx's 0.7 s.
import path from 'node:path';
import { $ } from 'zx';
import { REPO_ROOT } from '../../scripts/lib/util/paths.ts';

export interface CommandOutput {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const RUN = path.join(REPO_ROOT, 'scripts', 'run.mjs');

/** The argv that `npm run <command>` executes for `scripts/<script>` (`'diff.ts'` -> node scripts/run.mjs diff). */
export function commandLine(script: string): [string, string, string] {
  return [process.execPath, RUN, script.replace(/\.ts$/, '')];
}

export async function runScript(script: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandOutput> {
  const out = await $({ quiet: true, nothrow: true, cwd: options.cwd ?? REPO_ROOT, env: { ...process.env, ...options.env } })`${commandLine(script)} ${args}`;
  return { exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr };
}
