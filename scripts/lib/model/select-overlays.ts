import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { EXIT_USAGE, UserError } from '../cli/errors.ts';
import { kustomizationFileIn, listOverlays, resolveOverlayArgs, type Overlay } from './overlays.ts';
import { displayPath, OVERLAYS_DIR, REPO_ROOT } from '../util/paths.ts';
import { naturalCompare } from '../util/natural-sort.ts';

/**
 * The folders whose directories `build`, `validate`, `diff` (and `score`) take when given none:
 * every overlay, and every fleet cluster's directory (clusters/<name>/, docs/fleet.md), relative to
 * the repository. Cluster names never equal an overlay's (the inventory check refuses it), so each
 * still has its own output file.
 */
export const DEFAULT_TARGET_ROOTS = ['overlays', 'clusters'] as const;

/** Every directory right under clusters/ that holds a kustomization, sorted by name as people read them (site-2 before site-10). */
export function listClusters(root: string = path.join(REPO_ROOT, 'clusters')): Overlay[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && kustomizationFileIn(path.join(root, entry.name)))
    .map((entry) => ({ name: entry.name, dir: path.join(root, entry.name) }))
    .sort((a, b) => naturalCompare(a.name, b.name));
}

/** The overlays, then the fleet's cluster directories, of the repository at `repo`. */
export function listDefaultTargets(repo: string = REPO_ROOT): Overlay[] {
  return [...listOverlays(path.join(repo, 'overlays')), ...listClusters(path.join(repo, 'clusters'))];
}

/**
 * The overlays a command works on: the OVERLAY_DIR arguments, or every overlay and every cluster
 * directory in the repository. Every bad argument is reported at once, as a usage error.
 */
export function selectOverlays(args: readonly string[], usage: string, options: { writesFiles?: boolean } = {}): Overlay[] {
  if (args.length === 0) {
    const all = listDefaultTargets();
    if (all.length === 0) throw new UserError(`no overlays found: ${displayPath(OVERLAYS_DIR)} holds no directory with a kustomization.yaml.`, EXIT_USAGE);
    return all;
  }
  const { overlays, problems } = resolveOverlayArgs(args, process.cwd(), options);
  if (problems.length > 0) {
    const lines = problems.map((p) => `  OVERLAY_DIR ${p.arg}: ${p.problem}`);
    throw new UserError(`cannot use these overlay directories:\n${lines.join('\n')}\n\n${usage}`, EXIT_USAGE);
  }
  return overlays;
}
