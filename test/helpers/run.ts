// Runs a repository command the way a user does (tsx, from the repo root) and returns what they see.
import path from 'node:path';
import { $ } from 'zx';
import { REPO_ROOT } from '../../scripts/lib/util/paths.ts';

export interface CommandOutput {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runScript(script: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandOutput> {
  const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const out = await $({ quiet: true, nothrow: true, cwd: options.cwd ?? REPO_ROOT, env: { ...process.env, ...options.env } })`${tsx} ${path.join(REPO_ROOT, 'scripts', script)} ${args}`;
  return { exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr };
}
