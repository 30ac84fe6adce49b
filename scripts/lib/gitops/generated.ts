// Files that a command generates from a source of truth (the overlay directories for
// `npm run gitops:flux`, clusters/inventory.yaml for `npm run fleet -- generate`): compare them with
// what is on disk, say what differs and how to fix it, and write them. One implementation for both
// generators, so that `--check` behaves the same in each.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { displayPath } from '../util/paths.ts';

/**
 * What a generator produces: file contents by path relative to `root` (`/`-separated), and the
 * directories (relative to `root`, '' for root itself) whose every file it owns, so that a file
 * there that it no longer produces is left over.
 */
export interface GeneratedTree {
  readonly root: string;
  readonly files: ReadonlyMap<string, string>;
  readonly ownedDirs: readonly string[];
  /** How a path is shown to the user (default: relative to this repository). */
  readonly display?: (file: string) => string;
}

export interface Drift {
  /** Expected but absent. */
  readonly missing: string[];
  /** Present with other content. */
  readonly changed: string[];
  /** Present in an owned directory but not expected (its source was removed or renamed). */
  readonly extra: string[];
}

export function isUpToDate(drift: Drift): boolean {
  return drift.missing.length + drift.changed.length + drift.extra.length === 0;
}

/** Compares the tree with the files on disk. */
export function compareTree(tree: GeneratedTree): Drift {
  const missing: string[] = [];
  const changed: string[] = [];
  for (const [file, content] of tree.files) {
    const full = path.join(tree.root, file);
    if (!existsSync(full)) missing.push(file);
    else if (readFileSync(full, 'utf8') !== content) changed.push(file);
  }
  const present = tree.ownedDirs.flatMap((dir) => listFiles(path.join(tree.root, dir), dir === '' ? '' : `${dir}/`));
  const extra = [...new Set(present)].filter((file) => !tree.files.has(file)).sort();
  return { missing, changed, extra };
}

/** Every file under `dir`, relative and `/`-separated, sorted. */
export function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory() ? listFiles(path.join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
    )
    .sort();
}

/** The drift as lines a user can act on, one per file. */
export function driftLines(root: string, drift: Drift, display: (file: string) => string = displayPath): string[] {
  return [
    ...drift.missing.map((f) => `  missing:   ${display(path.join(root, f))}`),
    ...drift.changed.map((f) => `  outdated:  ${display(path.join(root, f))}`),
    ...drift.extra.map((f) => `  left over: ${display(path.join(root, f))}`),
  ];
}

/** Writes what is missing or outdated, removes what is left over; returns what it did, one line each. */
export async function writeTree(tree: GeneratedTree, drift: Drift = compareTree(tree)): Promise<string[]> {
  const done: string[] = [];
  const show = tree.display ?? displayPath;
  for (const file of [...drift.missing, ...drift.changed]) {
    await writeFileAtomic(path.join(tree.root, file), tree.files.get(file)!);
    done.push(`wrote   ${show(path.join(tree.root, file))}`);
  }
  for (const file of drift.extra) {
    const full = path.join(tree.root, file);
    await rm(full);
    await removeEmptyParents(path.dirname(full), tree.root);
    done.push(`removed ${show(full)}`);
  }
  return done;
}

/** A removed source leaves an empty directory behind otherwise. */
async function removeEmptyParents(dir: string, stop: string): Promise<void> {
  while (dir.startsWith(stop + path.sep) && (await readdir(dir)).length === 0) {
    await rmdir(dir);
    dir = path.dirname(dir);
  }
}
