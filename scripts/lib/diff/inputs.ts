// What an overlay can read, found conservatively, so that an overlay none of whose inputs changed
// can be reported unchanged without rendering it. Kustomize (with its default load restrictor)
// reads only inside each kustomization root, and reaches other roots through resources and
// components; so an overlay's inputs are every root it reaches (whole directory trees) plus any file
// referenced by path. Anything this cannot follow (a remote base, a Helm chart, a symlink, a file
// outside the repository or ignored by git) makes the overlay "always render".
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { kustomizationFileIn } from '../model/overlays.ts';

export type OverlayInputs =
  | { readonly kind: 'paths'; readonly dirs: readonly string[]; readonly files: readonly string[] }
  | { readonly kind: 'always-render'; readonly reason: string };

const REMOTE = /^[a-z][a-z0-9+.-]*:\/\/|^git@|^github\.com\/|^gitlab\.com\/|^bitbucket\.org\/|\?ref=|\/\/.*\?|^ssh:/i;

class AlwaysRender extends Error {}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** File-valued fields of a kustomization, as written (relative to its directory). */
function referencedPaths(k: Record<string, unknown>): { roots: string[]; files: string[] } {
  const roots: string[] = [];
  const files: string[] = [];
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);
  const objects = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => x !== null && typeof x === 'object') : []);
  // Inline YAML (a patch or transformer written in place) spans lines; a path never does.
  const notInline = (s: string) => !s.includes('\n');
  for (const field of ['resources', 'components', 'bases', 'transformers', 'generators', 'validators']) roots.push(...strings(k[field]).filter(notInline));
  files.push(...strings(k.patchesStrategicMerge).filter(notInline), ...strings(k.crds), ...strings(k.configurations));
  for (const field of ['patches', 'patchesJson6902', 'replacements']) {
    for (const entry of objects(k[field])) if (typeof entry.path === 'string') files.push(entry.path);
  }
  for (const field of ['configMapGenerator', 'secretGenerator']) {
    for (const generator of objects(k[field])) {
      files.push(...strings(generator.envs), ...strings(generator.env));
      // `files` entries are `path` or `key=path`.
      files.push(...strings(generator.files).map((f) => (f.includes('=') ? f.slice(f.indexOf('=') + 1) : f)));
    }
  }
  const openapi = k.openapi as { path?: unknown } | undefined;
  if (openapi && typeof openapi.path === 'string') files.push(openapi.path);
  return { roots, files };
}

function assertNoSymlinks(dir: string, seen: Set<string>): void {
  if (seen.has(dir)) return;
  seen.add(dir);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) throw new AlwaysRender(`${full} is a symbolic link`);
    if (entry.isDirectory()) assertNoSymlinks(full, seen);
  }
}

/**
 * The overlay's inputs as repository-relative paths (posix), found in `tree` (a checkout of one
 * side). `isIgnored` says whether git ignores a repository-relative file.
 */
export function findOverlayInputs(tree: string, overlayDir: string, isIgnored: (rel: string) => boolean = () => false): OverlayInputs {
  const dirs = new Set<string>();
  const files = new Set<string>();
  const scanned = new Set<string>();
  const rel = (abs: string): string => {
    const r = path.relative(tree, abs);
    if (r.startsWith('..') || path.isAbsolute(r)) throw new AlwaysRender(`${abs} is outside the repository`);
    return toPosix(r);
  };
  const addFile = (abs: string) => {
    if (existsSync(abs) && lstatSync(abs).isSymbolicLink()) throw new AlwaysRender(`${abs} is a symbolic link`);
    const r = rel(abs);
    if (existsSync(abs) && isIgnored(r)) throw new AlwaysRender(`${r} is ignored by git, so the base side cannot have it`);
    files.add(r);
  };
  const visit = (dir: string) => {
    const r = rel(dir);
    if (dirs.has(r)) return;
    dirs.add(r);
    if (!existsSync(dir)) return; // kustomize will fail on it; its appearance is still a change under this path
    assertNoSymlinks(dir, scanned);
    const file = kustomizationFileIn(dir);
    if (!file) return;
    let k: unknown;
    try {
      k = parse(readFileSync(file, 'utf8'));
    } catch {
      throw new AlwaysRender(`${rel(file)} does not parse`);
    }
    if (k === null || typeof k !== 'object') return;
    const kustomization = k as Record<string, unknown>;
    if (kustomization.helmCharts || kustomization.helmChartInflationGenerator || kustomization.helmGlobals) {
      throw new AlwaysRender(`${rel(file)} inflates Helm charts`);
    }
    const { roots, files: referenced } = referencedPaths(kustomization);
    for (const ref of [...roots, ...referenced]) if (REMOTE.test(ref)) throw new AlwaysRender(`${rel(file)} references the remote ${ref}`);
    for (const root of roots) {
      const abs = path.resolve(dir, root);
      if (existsSync(abs) && statSync(abs).isDirectory()) visit(abs);
      else addFile(abs);
    }
    for (const f of referenced) addFile(path.resolve(dir, f));
  };
  try {
    visit(path.resolve(overlayDir));
  } catch (error) {
    if (error instanceof AlwaysRender) return { kind: 'always-render', reason: error.message };
    throw error;
  }
  return { kind: 'paths', dirs: [...dirs].sort(), files: [...files].sort() };
}

/** Whether a change to any of `changed` (repository-relative, posix) could change what the overlay renders. */
export function inputsTouched(inputs: OverlayInputs, changed: readonly string[]): boolean {
  if (inputs.kind === 'always-render') return true;
  const files = new Set(inputs.files);
  return changed.some((c) => files.has(c) || inputs.dirs.some((d) => d === '' || c === d || c.startsWith(`${d}/`)));
}
