import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { displayPath, OVERLAYS_DIR } from '../util/paths.ts';

/** A directory kustomize can build, and the name its output goes by. */
export interface Overlay {
  /** The directory's base name: `rendered/<name>.yaml`, and the `emqx-<name>` namespace and Argo CD / Flux application. */
  readonly name: string;
  /** Absolute path. */
  readonly dir: string;
}

/** The file names kustomize accepts, in its own order of preference. */
export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

export function kustomizationFileIn(dir: string): string | undefined {
  return KUSTOMIZATION_FILES.map((f) => path.join(dir, f)).find((f) => existsSync(f));
}

/** Every directory right under `overlays/` that holds a kustomization, sorted by name. */
export function listOverlays(root: string = OVERLAYS_DIR): Overlay[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && kustomizationFileIn(path.join(root, entry.name)))
    .map((entry) => ({ name: entry.name, dir: path.join(root, entry.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Why an OVERLAY_DIR argument cannot be used; `undefined` when it can. */
export type OverlayArgProblem = { readonly arg: string; readonly problem: string };

/**
 * Turns OVERLAY_DIR arguments into overlays. Returns the problems rather than throwing, so that the
 * command can report all of them at once.
 */
export function resolveOverlayArgs(args: readonly string[], cwd: string = process.cwd(), options: { writesFiles?: boolean } = {}): { overlays: Overlay[]; problems: OverlayArgProblem[] } {
  const overlays: Overlay[] = [];
  const problems: OverlayArgProblem[] = [];
  for (const arg of args) {
    const dir = path.resolve(cwd, arg);
    if (!existsSync(dir)) {
      problems.push({ arg, problem: `${displayPath(dir)} does not exist` });
    } else if (!statSync(dir).isDirectory()) {
      problems.push({ arg, problem: `${displayPath(dir)} is a file; pass the directory that holds kustomization.yaml` });
    } else if (!kustomizationFileIn(dir)) {
      problems.push({ arg, problem: `${displayPath(dir)} holds no kustomization.yaml; pass an overlay directory such as overlays/single-node` });
    } else {
      overlays.push({ name: path.basename(dir), dir });
    }
  }
  const unique = dedupe(overlays);
  // Only a command that writes a file per overlay (build) cannot take two directories of one name;
  // the others tell them apart by their paths (clusters/x and gitops/flux/clusters/x).
  if (options.writesFiles) return { overlays: unique, problems: [...problems, ...nameClashes(unique)] };
  const clashing = new Set(nameClashes(unique).flatMap((c) => c.arg.split(', ')));
  return { overlays: unique.map((o) => (clashing.has(displayPath(o.dir)) ? { ...o, name: displayPath(o.dir) } : o)), problems };
}

function dedupe(overlays: readonly Overlay[]): Overlay[] {
  const seen = new Set<string>();
  return overlays.filter((o) => (seen.has(o.dir) ? false : (seen.add(o.dir), true)));
}

/** Two directories with the same base name would write the same output file. */
function nameClashes(overlays: readonly Overlay[]): OverlayArgProblem[] {
  const byName = new Map<string, Overlay[]>();
  for (const o of overlays) byName.set(o.name, [...(byName.get(o.name) ?? []), o]);
  return [...byName.values()]
    .filter((group) => group.length > 1)
    .map((group) => ({
      arg: group.map((o) => displayPath(o.dir)).join(', '),
      problem: `these directories share the name "${group[0]!.name}" and would write the same output file; render them in separate runs`,
    }));
}
