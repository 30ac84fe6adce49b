import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { access, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../cli/errors.ts';
import { displayPath } from './paths.ts';

/**
 * Writes a file so that readers see the old content or the new, never half of it: the content goes
 * to a temporary file in the same directory (same file system), which then replaces the target.
 */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await ensureDirectory(dir);
    await writeFile(temp, content, { flag: 'wx' });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    // The file system said no (full, read-only, not a directory): the user's to fix, not a bug.
    const code = (error as NodeJS.ErrnoException).code;
    if (code) throw new UserError(`cannot write ${displayPath(file)}: ${code} (${(error as Error).message}). Fix: choose a location you can write to.`);
    throw error;
  }
}

/**
 * Creates `dir` one level at a time. (Node 20's `mkdir(..., { recursive: true })` never returns
 * for some paths, such as one under /proc: a user's typo must not hang the command.)
 */
async function ensureDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  let existing = path.resolve(dir);
  while (!(await statOrUndefined(existing))) {
    missing.unshift(existing);
    existing = path.dirname(existing);
  }
  for (const level of missing) await mkdir(level).catch((error: NodeJS.ErrnoException) => (error.code === 'EEXIST' ? undefined : Promise.reject(error)));
}

async function statOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await stat(p);
  } catch {
    return undefined;
  }
}

/**
 * Checks, before any work is done, that `target` can be written: for a directory (`build --out`)
 * that it is one or can be created; for a file (`diff --out`) that it is not a directory and its
 * folder is writable. A problem is a UserError that names the option.
 */
export async function assertWritable(target: string, kind: 'directory' | 'file', option: string): Promise<void> {
  const resolved = path.resolve(target);
  const problem = (why: string) => new UserError(`${option} ${displayPath(resolved)}: ${why}. Fix: pass a ${kind === 'directory' ? 'directory' : 'file path'} you can write to.`);
  const own = await statOrUndefined(resolved);
  if (own) {
    if (kind === 'directory' && !own.isDirectory()) throw problem('exists and is not a directory');
    if (kind === 'file' && own.isDirectory()) throw problem('is a directory');
  }
  // The nearest existing folder must be a writable directory: everything below it gets created.
  let parent = kind === 'directory' && own ? resolved : path.dirname(resolved);
  let parentStat = await statOrUndefined(parent);
  while (!parentStat) {
    parent = path.dirname(parent);
    parentStat = await statOrUndefined(parent);
  }
  if (!parentStat.isDirectory()) throw problem(`${displayPath(parent)} is a file, not a directory`);
  try {
    await access(parent, constants.W_OK);
  } catch {
    throw problem(`${displayPath(parent)} is not writable`);
  }
}
