// The repository's own commands, run on the e2e's working clone as a user runs them: `npm run diff`
// with its JSON report, `npm run gitops:flux` and `npm run fleet -- generate|promote`, each through
// scripts/run.mjs, the entry point npm runs.
// Subprocesses rather than library calls: the e2e checks the commands, and the features stay apart.
import path from 'node:path';
import { $ } from 'zx/core';
import { ToolError } from '../cli/errors.ts';
import { REPO_ROOT } from '../util/paths.ts';

const RUN = path.join(REPO_ROOT, 'scripts', 'run.mjs');

/** The part of `npm run diff -- --format json` the e2e reads (scripts/lib/diff/types.ts). */
export interface DiffJson {
  readonly overlays: ReadonlyArray<{
    readonly name: string;
    readonly status: string;
    readonly changes: ReadonlyArray<{ readonly id: { readonly kind: string; readonly namespace: string; readonly name: string }; readonly previousName?: string; readonly change: string; readonly paths: readonly string[] }>;
    readonly warnings: ReadonlyArray<{ readonly rule: string; readonly object: string; readonly message: string }>;
  }>;
}

export async function diffCommits(repo: string, base: string, head: string): Promise<DiffJson> {
  const out = await $({ quiet: true, nothrow: true, cwd: repo, timeout: 180_000 })`node ${RUN} diff --base ${base} --head ${head} --format json`;
  if (out.exitCode !== 0) throw new ToolError(`npm run diff -- --base ${base} --head ${head} failed (exit ${out.exitCode}) in ${repo}:\n${out.stderr.trim()}`);
  return JSON.parse(out.stdout) as DiffJson;
}

/** `npm run gitops:flux -- --root DIR`, as a user runs it after removing an overlay; its output lines. */
export async function regenerateFluxFiles(repo: string): Promise<string[]> {
  const out = await $({ quiet: true, nothrow: true, cwd: REPO_ROOT, timeout: 120_000 })`node ${RUN} gitops-flux --root ${repo}`;
  if (out.exitCode !== 0) throw new ToolError(`npm run gitops:flux -- --root ${repo} failed (exit ${out.exitCode}):\n${out.stderr.trim()}${out.stdout.trim()}`);
  return out.stdout.trim().split('\n').filter(Boolean);
}

/** `npm run fleet -- generate --root DIR`, as a user runs it after editing the inventory; its output lines. */
export async function regenerateFleetFiles(repo: string): Promise<string[]> {
  const out = await $({ quiet: true, nothrow: true, cwd: REPO_ROOT, timeout: 120_000 })`node ${RUN} fleet generate --root ${repo}`;
  if (out.exitCode !== 0) throw new ToolError(`npm run fleet -- generate --root ${repo} failed (exit ${out.exitCode}):\n${out.stderr.trim()}${out.stdout.trim()}`);
  return out.stdout.trim().split('\n').filter(Boolean);
}

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run fleet -- promote --wave N --kubeconfig FILE --remote R --root DIR`, as a user runs it; refusals are results, not errors. */
export async function promoteWave(repo: string, wave: number, kubeconfig: string, remote: string): Promise<CommandResult> {
  const out = await $({ quiet: true, nothrow: true, cwd: REPO_ROOT, timeout: 180_000 })`node ${RUN} fleet promote --wave ${wave} --kubeconfig ${kubeconfig} --remote ${remote} --root ${repo}`;
  return { exitCode: out.exitCode ?? -1, stdout: out.stdout, stderr: out.stderr };
}
