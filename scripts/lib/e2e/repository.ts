// The e2e's own copy of the repository: a working clone that holds the state of the user's working
// tree (uncommitted and untracked files included, ignored ones not), committed on a branch `main`,
// and a bare repository it pushes to through the file system, which the git server publishes to
// Flux. The user's checkout, index, objects and branches are never written: everything happens in
// the temporary directory. git runs with no global or system config, so a user's hooks, signing or
// aliases cannot change what is committed.
import { existsSync } from 'node:fs';
import { cp, lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx/core';
import { ToolError } from '../cli/errors.ts';

export const E2E_BRANCH = 'main';
export const BARE_NAME = 'emqx-gitops.git';
/** The working clone's name for the bare repository (what `npm run fleet -- promote --remote` is given). */
export const E2E_REMOTE = 'e2e';

const IDENTITY = {
  GIT_AUTHOR_NAME: 'emqx-gitops e2e',
  GIT_AUTHOR_EMAIL: 'e2e@emqx-gitops.invalid',
  GIT_COMMITTER_NAME: 'emqx-gitops e2e',
  GIT_COMMITTER_EMAIL: 'e2e@emqx-gitops.invalid',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
};

async function git(cwd: string, args: readonly string[]): Promise<string> {
  const out = await $({ quiet: true, nothrow: true, cwd, env: { ...process.env, ...IDENTITY }, timeout: 120_000 })`git ${args}`;
  if (out.exitCode !== 0) throw new ToolError(`git ${args.join(' ')} failed (exit ${out.exitCode}) in ${cwd}:\n${out.stderr.trim()}`);
  return out.stdout;
}

export interface TestRepository {
  /** The working clone: edit files here, then `commit` and `push`. */
  readonly work: string;
  /** The directory the git server serves; holds only BARE_NAME. */
  readonly projectRoot: string;
  readonly bare: string;
  /** Commits everything in the working clone (additions, edits, deletions); returns the commit. */
  readonly commit: (message: string) => Promise<string>;
  /** Pushes the working clone's HEAD to `main` of the bare repository; returns the commit. */
  readonly push: () => Promise<string>;
  /** Points `branch` of the bare repository at `commit` (as a user creates a wave's branch once). */
  readonly pushBranch: (commit: string, branch: string) => Promise<void>;
  /** The commit `branch` of the bare repository points at. */
  readonly branchCommit: (branch: string) => Promise<string>;
  readonly head: () => Promise<string>;
  /** Reads, edits and writes a file of the working clone (path relative to it). */
  readonly edit: (file: string, change: (text: string) => string) => Promise<void>;
}

/**
 * Snapshots `source`'s working tree into `<dir>/work` and `<dir>/git/BARE_NAME`. The first commit
 * on `main` is the working tree exactly as it is; `git clone` brings the history, so that the base
 * side of a later `npm run diff` has the same parents as in the user's repository.
 */
export async function createTestRepository(source: string, dir: string): Promise<TestRepository> {
  const work = path.join(dir, 'work');
  const projectRoot = path.join(dir, 'git');
  const bare = path.join(projectRoot, BARE_NAME);
  await mkdir(projectRoot, { recursive: true });
  await git(dir, ['clone', '--quiet', '--no-hardlinks', '--', source, work]);
  await git(work, ['checkout', '--quiet', '-B', E2E_BRANCH]);

  // What the user sees: tracked files as they are on disk, plus untracked files git does not ignore.
  const listed = (await git(source, ['ls-files', '-z', '--cached', '--others', '--exclude-standard'])).split('\0').filter(Boolean);
  const present = new Set<string>();
  for (const file of listed) {
    const stat = await lstat(path.join(source, file)).catch(() => undefined);
    if (stat && !stat.isDirectory()) present.add(file);
  }
  for (const file of (await git(work, ['ls-files', '-z'])).split('\0').filter(Boolean)) {
    if (!present.has(file)) await rm(path.join(work, file), { force: true });
  }
  for (const file of present) {
    await mkdir(path.dirname(path.join(work, file)), { recursive: true });
    await cp(path.join(source, file), path.join(work, file), { verbatimSymlinks: true, force: true });
  }

  await git(projectRoot, ['init', '--quiet', '--bare', `--initial-branch=${E2E_BRANCH}`, BARE_NAME]);
  await git(work, ['remote', 'add', E2E_REMOTE, bare]);

  const commit = async (message: string): Promise<string> => {
    await git(work, ['add', '--all']);
    await git(work, ['commit', '--quiet', '--allow-empty', '--no-verify', '-m', message]);
    return (await git(work, ['rev-parse', 'HEAD'])).trim();
  };
  const head = async (): Promise<string> => (await git(work, ['rev-parse', 'HEAD'])).trim();
  const push = async (): Promise<string> => {
    await git(work, ['push', '--quiet', '--force', E2E_REMOTE, `HEAD:refs/heads/${E2E_BRANCH}`]);
    return head();
  };
  const pushBranch = async (commit: string, branch: string): Promise<void> => {
    await git(work, ['push', '--quiet', E2E_REMOTE, `${commit}:refs/heads/${branch}`]);
  };
  const branchCommit = async (branch: string): Promise<string> => (await git(bare, ['rev-parse', `refs/heads/${branch}`])).trim();
  const edit = async (file: string, change: (text: string) => string): Promise<void> => {
    const target = path.join(work, file);
    if (!existsSync(target)) throw new ToolError(`the e2e edits ${file}, which the repository no longer has: update scripts/lib/e2e to the new layout`);
    const before = await readFile(target, 'utf8');
    const after = change(before);
    if (after === before) throw new ToolError(`the e2e's edit of ${file} changed nothing: the text it replaces is gone; update scripts/lib/e2e`);
    await writeFile(target, after);
  };
  return { work, projectRoot, bare, commit, push, pushBranch, branchCommit, head, edit };
}

/** `git rm -r` of a directory in the working clone (what a user does to remove an overlay). */
export async function removeDirectory(repo: TestRepository, dir: string): Promise<void> {
  await git(repo.work, ['rm', '-r', '--quiet', '--', dir]);
}
