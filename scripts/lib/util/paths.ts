import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root, whatever the current directory: the nearest folder above this module with a
 * package.json. Found rather than counted, because this module also runs bundled from .tools/dist.
 */
export const REPO_ROOT = findUp(path.dirname(fileURLToPath(import.meta.url)), 'package.json');

function findUp(start: string, file: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, file))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no ${file} above ${start}`);
  }
}

/** Where the set-up installs pinned tools (git-ignored). */
export const TOOLS_DIR = path.join(REPO_ROOT, '.tools');
export const TOOLS_BIN = path.join(TOOLS_DIR, 'bin');
/** The commands, bundled to plain JavaScript by the set-up so that they start fast (scripts/run.mjs). */
export const TOOLS_DIST = path.join(TOOLS_DIR, 'dist');

export const OVERLAYS_DIR = path.join(REPO_ROOT, 'overlays');
export const DEFAULT_RENDER_DIR = path.join(REPO_ROOT, 'rendered');

/** A path as a user would want to read it: relative to the repository when inside it. */
export function displayPath(p: string): string {
  const rel = path.relative(REPO_ROOT, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}
