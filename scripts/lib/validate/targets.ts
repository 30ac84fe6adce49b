// What `npm run validate` checks when given no OVERLAY_DIR: every overlay, every fleet cluster's
// directory (clusters/<name>/), and every kustomization the repository ships for syncing (gitops/: Argo CD, Flux), found by walking the folder rather
// than by name, so a new sync folder is checked without touching this file.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { kustomizationFileIn, type Overlay } from '../model/overlays.ts';
import { displayPath, REPO_ROOT } from '../util/paths.ts';
import { asRecord } from '../model/object.ts';
import { listDefaultTargets } from '../model/select-overlays.ts';

export const GITOPS_DIR = path.join(REPO_ROOT, 'gitops');

/** A kustomization file's `kind` and the directories its `resources` list. */
function readKustomization(dir: string): { kind: string; resourceDirs: string[] } | undefined {
  const file = kustomizationFileIn(dir);
  if (!file) return undefined;
  let k: Record<string, unknown>;
  try {
    k = asRecord(parse(readFileSync(file, 'utf8')));
  } catch {
    // Broken YAML: build it anyway, so that kustomize reports the error with the file named.
    return { kind: 'Kustomization', resourceDirs: [] };
  }
  const resources = Array.isArray(k.resources) ? k.resources.filter((r): r is string => typeof r === 'string') : [];
  const resourceDirs = resources.map((r) => path.resolve(dir, r)).filter((p) => existsSync(p) && statSync(p).isDirectory());
  return { kind: typeof k.kind === 'string' ? k.kind : 'Kustomization', resourceDirs };
}

/**
 * Directories under `root` that kustomize can build on their own (a Component cannot), leaving out
 * those another one already includes as a resource: the roots a user applies.
 */
export function listSyncKustomizations(root: string = GITOPS_DIR): Overlay[] {
  if (!existsSync(root)) return [];
  const found = new Map<string, string[]>();
  const walk = (dir: string) => {
    const k = readKustomization(dir);
    if (k && k.kind !== 'Component') found.set(dir, k.resourceDirs);
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory() && !entry.name.startsWith('.')) walk(path.join(dir, entry.name));
  };
  walk(root);
  const included = new Set([...found.values()].flat());
  return [...found.keys()]
    .filter((dir) => !included.has(dir))
    .sort()
    .map((dir) => ({ name: displayPath(dir), dir }));
}

export function defaultTargets(): Overlay[] {
  return [...listDefaultTargets(), ...listSyncKustomizations()];
}
