import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, whatever the current directory. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the set-up installs pinned tools (git-ignored). */
export const TOOLS_DIR = path.join(REPO_ROOT, '.tools');
export const TOOLS_BIN = path.join(TOOLS_DIR, 'bin');

export const OVERLAYS_DIR = path.join(REPO_ROOT, 'overlays');
export const DEFAULT_RENDER_DIR = path.join(REPO_ROOT, 'rendered');

/** A path as a user would want to read it: relative to the repository when inside it. */
export function displayPath(p: string): string {
  const rel = path.relative(REPO_ROOT, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}
