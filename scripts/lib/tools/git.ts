// The git operations `diff` needs. Nothing here changes the user's checkout: the other side is
// checked out into a temporary worktree that is always removed afterwards.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx/core';
import { ToolError, UserError, EXIT_USAGE } from '../cli/errors.ts';

const git = $({ quiet: true, nothrow: true });

async function run(cwd: string, args: readonly string[]): Promise<string> {
  const out = await git({ cwd })`git ${args}`;
  if (out.exitCode !== 0) throw new ToolError(`git ${args.join(' ')} failed (exit ${out.exitCode}) in ${cwd}:\n${out.stderr.trim()}`);
  return out.stdout;
}

/** The top of the repository that holds `cwd`. */
export async function repositoryRoot(cwd: string): Promise<string> {
  const out = await git({ cwd })`git rev-parse --show-toplevel`;
  if (out.exitCode !== 0) throw new UserError(`${cwd} is not inside a git repository: \`npm run diff\` compares two commits of one. Run it from the repository.`, EXIT_USAGE);
  return out.stdout.trim();
}

/** The commit a ref names, or a usage error that says which option was wrong. */
export async function resolveCommit(repo: string, ref: string, option: string): Promise<string> {
  const out = await git({ cwd: repo })`git rev-parse --verify --quiet --end-of-options ${`${ref}^{commit}`}`;
  if (out.exitCode !== 0 || !out.stdout.trim()) {
    throw new UserError(
      `${option} ${ref}: no such commit in ${repo}. Use a branch, tag or commit that exists locally (in CI, fetch it first: \`git fetch origin main\`, or check out with fetch-depth: 0).`,
      EXIT_USAGE,
    );
  }
  return out.stdout.trim();
}

/** The best common ancestor: what a pull request is compared against. */
export async function mergeBase(repo: string, a: string, b: string): Promise<string> {
  const out = await git({ cwd: repo })`git merge-base ${a} ${b}`;
  if (out.exitCode !== 0) throw new UserError(`${a} and ${b} have no common ancestor (a shallow clone? fetch with fetch-depth: 0).`, EXIT_USAGE);
  return out.stdout.trim();
}

function splitZ(text: string): string[] {
  return text.split('\0').filter((s) => s !== '');
}

/**
 * Paths (repository-relative, posix) that differ between `base` and `head`; with no `head`, between
 * `base` and the working tree, uncommitted and untracked (not ignored) files included. Renames count
 * as both paths.
 */
export async function changedPaths(repo: string, base: string, head?: string): Promise<string[]> {
  if (head) return splitZ(await run(repo, ['diff', '--name-only', '--no-renames', '-z', base, head, '--']));
  const [tracked, untracked] = await Promise.all([
    run(repo, ['diff', '--name-only', '--no-renames', '-z', base, '--']),
    run(repo, ['ls-files', '--others', '--exclude-standard', '-z']),
  ]);
  return [...new Set([...splitZ(tracked), ...splitZ(untracked)])].sort();
}

/** Files git ignores in the working tree (for "can the base side have this file?"). */
export async function ignoredPaths(repo: string): Promise<Set<string>> {
  return new Set(splitZ(await run(repo, ['ls-files', '--others', '--ignored', '--exclude-standard', '--directory', '-z'])));
}

/** Directories right under `dir` in `commit` that hold a kustomization file. */
export async function kustomizationDirsAt(repo: string, commit: string, dir: string): Promise<string[]> {
  const out = await git({ cwd: repo })`git ls-tree -r --name-only -z ${commit} -- ${`${dir}/`}`;
  if (out.exitCode !== 0) return [];
  const found = new Set<string>();
  for (const file of splitZ(out.stdout)) {
    const match = /^(.*)\/(kustomization\.ya?ml|Kustomization)$/.exec(file);
    if (match && path.posix.dirname(match[1]!) === dir) found.add(match[1]!);
  }
  return [...found].sort();
}

/** Whether `dir` holds a kustomization file in `commit`. */
export async function hasKustomizationAt(repo: string, commit: string, dir: string): Promise<boolean> {
  const out = await git({ cwd: repo })`git ls-tree --name-only -z ${commit} -- ${`${dir}/`}`;
  return out.exitCode === 0 && splitZ(out.stdout).some((f) => /\/(kustomization\.ya?ml|Kustomization)$/.test(f));
}

const liveWorktrees = new Set<{ repo: string; dir: string }>();

async function removeWorktree(entry: { repo: string; dir: string }): Promise<void> {
  await git({ cwd: entry.repo })`git worktree remove --force ${entry.dir}`;
  await rm(path.dirname(entry.dir), { recursive: true, force: true });
  await git({ cwd: entry.repo })`git worktree prune`;
  liveWorktrees.delete(entry);
}

// Ctrl-C or a CI cancel must not leave a worktree registered in the user's repository.
let handlersInstalled = false;
function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void Promise.allSettled([...liveWorktrees].map(removeWorktree)).then(() => process.exit(130));
    });
  }
}

/**
 * Checks `commit` out (detached) into a temporary worktree, runs `fn` on its path, and removes the
 * worktree whatever happens. The user's checkout, index and branches are not touched.
 */
export async function withWorktree<T>(repo: string, commit: string, fn: (dir: string) => Promise<T>): Promise<T> {
  installSignalHandlers();
  const parent = await mkdtemp(path.join(os.tmpdir(), 'emqx-gitops-diff-'));
  const entry = { repo, dir: path.join(parent, 'tree') };
  const out = await git({ cwd: repo })`git worktree add --detach --quiet ${entry.dir} ${commit}`;
  if (out.exitCode !== 0) {
    await rm(parent, { recursive: true, force: true });
    throw new ToolError(`git worktree add for ${commit} failed (exit ${out.exitCode}):\n${out.stderr.trim()}`);
  }
  liveWorktrees.add(entry);
  try {
    return await fn(entry.dir);
  } finally {
    await removeWorktree(entry);
  }
}

/** Every file path in `ref` (for reading another repository's checkout, bare or not, without a worktree). */
export async function filesAt(repo: string, ref: string): Promise<string[]> {
  return splitZ(await run(repo, ['ls-tree', '-r', '--name-only', '-z', ref]));
}

/** One file's text in `ref`. */
export async function showFile(repo: string, ref: string, file: string): Promise<string> {
  const out = await git({ cwd: repo })`git show ${`${ref}:${file}`}`;
  if (out.exitCode !== 0) throw new UserError(`${repo}: no ${file} at ${ref} (${out.stderr.trim()}).`, EXIT_USAGE);
  return out.stdout;
}

/** The commit `branch` of `remote` points at (`git ls-remote`), or undefined when it has no such branch. */
export async function remoteBranchCommit(repo: string, remote: string, branch: string): Promise<string | undefined> {
  const out = await run(repo, ['ls-remote', '--heads', '--', remote, `refs/heads/${branch}`]);
  return out.split('\n').find((l) => l.endsWith(`\trefs/heads/${branch}`))?.split('\t')[0];
}

/** Fetches `branch` of `remote` (its objects, for a later push of one of its commits); returns its commit. */
export async function fetchBranch(repo: string, remote: string, branch: string): Promise<string> {
  await run(repo, ['fetch', '--quiet', '--no-tags', '--', remote, `refs/heads/${branch}`]);
  return (await run(repo, ['rev-parse', 'FETCH_HEAD'])).trim();
}

/** Whether the clone has `commit` (a commit object, not only a name). */
export async function hasCommit(repo: string, commit: string): Promise<boolean> {
  const out = await git({ cwd: repo })`git cat-file -e ${`${commit}^{commit}`}`;
  return out.exitCode === 0;
}

/** Whether `ancestor` is `commit` or one of its ancestors. */
export async function isAncestor(repo: string, ancestor: string, commit: string): Promise<boolean> {
  const out = await git({ cwd: repo })`git merge-base --is-ancestor ${ancestor} ${commit}`;
  if (out.exitCode === 0 || out.exitCode === 1) return out.exitCode === 0;
  throw new ToolError(`git merge-base --is-ancestor ${ancestor} ${commit} failed (exit ${out.exitCode}) in ${repo}:\n${out.stderr.trim()}`);
}

/**
 * Points `branch` of `remote` at `commit`, fast-forward only (no force): a branch someone moved
 * elsewhere is refused by the server, and the error says so.
 */
export async function pushCommit(repo: string, remote: string, commit: string, branch: string): Promise<void> {
  await run(repo, ['push', '--quiet', '--', remote, `${commit}:refs/heads/${branch}`]);
}

/** The commit `npm run publish` stamps on an artifact: HEAD, its branch (none when detached) and its committer time. */
export interface HeadRevision {
  readonly commit: string;
  readonly branch?: string;
  /** The committer date, RFC 3339 in UTC (`2026-12-03T07:44:07Z`). */
  readonly committed: string;
}

export async function headRevision(repo: string): Promise<HeadRevision> {
  const out = await git({ cwd: repo })`git log -1 --format=%H%n%ct`;
  if (out.exitCode !== 0) throw new UserError(`${repo} is not a git checkout with a commit: \`npm run publish\` stamps each artifact with the commit it was rendered from. Run it from a clone of the repository.`, EXIT_USAGE);
  const [commit = '', seconds = '0'] = out.stdout.trim().split('\n');
  const branch = (await run(repo, ['branch', '--show-current'])).trim();
  return { commit, ...(branch ? { branch } : {}), committed: new Date(Number(seconds) * 1000).toISOString().replace(/\.000Z$/, 'Z') };
}

/** Paths under `dirs` that differ from HEAD (modified, added, untracked), as `git status` lists them. */
export async function uncommittedPaths(repo: string, dirs: readonly string[]): Promise<string[]> {
  const out = await run(repo, ['status', '--porcelain', '--untracked-files=all', '--', ...dirs]);
  return out.split('\n').filter(Boolean).map((line) => line.slice(3));
}
