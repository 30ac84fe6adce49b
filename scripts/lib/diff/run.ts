// Orchestrates a diff: which overlays exist on each side, which of them can have changed, one
// render of both sides through renderOverlays, then the pure engine per overlay.
import path from 'node:path';
import { DEFAULT_CONCURRENCY } from '../util/concurrency.ts';
import { EXIT_USAGE, UserError } from '../cli/errors.ts';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { wavesByName } from '../model/waves.ts';
import { changedPaths, hasKustomizationAt, ignoredPaths, kustomizationDirsAt, mergeBase, repositoryRoot, resolveCommit, showFile, withWorktree } from '../tools/git.ts';
import type { Kustomize } from '../tools/kustomize.ts';
import { kustomizationFileIn, listOverlays, type Overlay } from '../model/overlays.ts';
import { renderOverlays } from '../model/render.ts';
import { parseObjects } from '../model/render-stream.ts';
import { diffOverlay } from './engine.ts';
import { naturalCompare } from '../util/natural-sort.ts';
import { findOverlayInputs, inputsTouched } from './inputs.ts';
import { serverWarnings, type ServerCheckSettings, type ServerTarget } from './server.ts';
import type { DiffReport, OverlayDiff } from './types.ts';
import type { K8sObject } from '../model/object.ts';

export interface RunDiffOptions {
  /** Where the user runs the command: the repository is found from here, OVERLAY_DIRs resolve from here. */
  readonly cwd: string;
  readonly base: string;
  /** A ref; undefined means the working tree, uncommitted and untracked changes included. */
  readonly head?: string;
  /** Compare against the merge base of base and head, as a pull request does. */
  readonly mergeBase?: boolean;
  readonly overlayArgs: readonly string[];
  readonly kustomize: Kustomize;
  readonly concurrency?: number;
  /** `--server`: also ask an ephemeral API server about every changed overlay (server.ts). */
  readonly server?: ServerCheckSettings;
}

interface Plan {
  readonly rel: string;
  readonly name: string;
  readonly inBase: boolean;
  readonly inHead: boolean;
  /** Nothing the overlay reads changed: neither side needs rendering. */
  readonly skip: boolean;
  /** Its cluster is in the base inventory and not in the head's. */
  readonly removedFromInventory: boolean;
}

const OVERLAYS = 'overlays';
/** The fleet's cluster directories (scripts/lib/fleet: clusters/<name>/, listed in clusters/inventory.yaml). */
const CLUSTERS = 'clusters';
const INVENTORY = `${CLUSTERS}/inventory.yaml`;

/**
 * The clusters of an inventory text (`clusters: [{name: ..., wave: ...}]`) with their waves,
 * tolerantly: the fleet command checks the file; here a broken or missing one only means no
 * cluster was removed and none has a wave. A wave that is not a whole number counts as none.
 */
export function inventoryWaves(text: string | undefined): Map<string, number> {
  try {
    const data = text === undefined ? undefined : (parse(text) as { clusters?: unknown } | null);
    const entries = Array.isArray(data?.clusters) ? data.clusters : [];
    return wavesByName(
      entries.flatMap((e: unknown) => {
        if (e === null || typeof e !== 'object' || typeof (e as { name?: unknown }).name !== 'string') return [];
        const { name, wave } = e as { name: string; wave?: unknown };
        return [Number.isInteger(wave) && (wave as number) >= 1 ? { name, wave: wave as number } : { name }];
      }),
    );
  } catch {
    return new Map();
  }
}

/** The cluster names of an inventory text, as inventoryWaves reads them. */
export function inventoryNames(text: string | undefined): Set<string> {
  return new Set(inventoryWaves(text).keys());
}

interface InventorySides {
  /** Clusters listed in the base inventory and not in the head's, by their directory (`clusters/<name>`). */
  readonly leaving: Set<string>;
  /** Each cluster directory's wave: the head's, or the base's for a cluster the head no longer lists. */
  readonly waves: Map<string, number>;
}

async function inventorySides(repo: string, baseCommit: string, headCommit: string | undefined): Promise<InventorySides> {
  const at = async (commit: string | undefined) => {
    try {
      return commit ? await showFile(repo, commit, INVENTORY) : await readFile(path.join(repo, INVENTORY), 'utf8');
    } catch {
      return undefined;
    }
  };
  const [base, head] = await Promise.all([at(baseCommit), at(headCommit)]).then(([b, h]) => [inventoryWaves(b), inventoryWaves(h)]);
  const waves = new Map<string, number>();
  for (const [name, wave] of [...base!, ...head!]) waves.set(`${CLUSTERS}/${name}`, wave);
  return { leaving: new Set([...base!.keys()].filter((name) => !head!.has(name)).map((name) => `${CLUSTERS}/${name}`)), waves };
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

async function selectOverlayDirs(repo: string, baseCommit: string, headCommit: string | undefined, args: readonly string[], cwd: string): Promise<Array<{ rel: string; inBase: boolean; inHead: boolean }>> {
  const inHead = async (rel: string) => (headCommit ? hasKustomizationAt(repo, headCommit, rel) : kustomizationFileIn(path.join(repo, rel)) !== undefined);
  if (args.length === 0) {
    // Every overlay and every cluster directory of the fleet, on either side.
    const dirsAt = async (top: string) => {
      const baseDirs = await kustomizationDirsAt(repo, baseCommit, top);
      const headDirs = headCommit ? await kustomizationDirsAt(repo, headCommit, top) : listOverlays(path.join(repo, top)).map((o) => toPosix(path.relative(repo, o.dir)));
      return { baseDirs, headDirs };
    };
    const [overlays, clusters] = await Promise.all([dirsAt(OVERLAYS), dirsAt(CLUSTERS)]);
    const baseDirs = [...overlays.baseDirs, ...clusters.baseDirs];
    const headDirs = [...overlays.headDirs, ...clusters.headDirs];
    const all = [...new Set([...baseDirs, ...headDirs])].sort(naturalCompare);
    if (all.length === 0) throw new UserError(`no overlays: neither side has a directory with a kustomization.yaml under ${OVERLAYS}/ or ${CLUSTERS}/.`, EXIT_USAGE);
    return all.map((rel) => ({ rel, inBase: baseDirs.includes(rel), inHead: headDirs.includes(rel) }));
  }
  const problems: string[] = [];
  const selected: Array<{ rel: string; inBase: boolean; inHead: boolean }> = [];
  for (const arg of args) {
    const rel = toPosix(path.relative(repo, path.resolve(cwd, arg)));
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
      problems.push(`  OVERLAY_DIR ${arg}: not inside the repository ${repo}`);
      continue;
    }
    const [b, h] = await Promise.all([hasKustomizationAt(repo, baseCommit, rel), inHead(rel)]);
    if (!b && !h) problems.push(`  OVERLAY_DIR ${arg}: holds no kustomization.yaml on either side; pass an overlay directory such as overlays/single-node`);
    else if (!selected.some((s) => s.rel === rel)) selected.push({ rel, inBase: b, inHead: h });
  }
  if (problems.length > 0) throw new UserError(`cannot use these overlay directories:\n${problems.join('\n')}`, EXIT_USAGE);
  return selected;
}

async function withOptionalWorktree<T>(repo: string, commit: string | undefined, fn: (tree: string | undefined) => Promise<T>): Promise<T> {
  return commit ? withWorktree(repo, commit, (dir) => fn(dir)) : fn(undefined);
}

export async function runDiff(options: RunDiffOptions): Promise<DiffReport> {
  const repo = await repositoryRoot(options.cwd);
  const headCommit = options.head ? await resolveCommit(repo, options.head, '--head') : undefined;
  let baseCommit = await resolveCommit(repo, options.base, '--base');
  if (options.mergeBase) baseCommit = await mergeBase(repo, baseCommit, headCommit ?? 'HEAD');
  const selected = await selectOverlayDirs(repo, baseCommit, headCommit, options.overlayArgs, options.cwd);
  const [changed, ignored] = await Promise.all([changedPaths(repo, baseCommit, headCommit), headCommit ? Promise.resolve(new Set<string>()) : ignoredPaths(repo)]);
  // `git ls-files --ignored --directory` lists an ignored directory once, with a trailing slash.
  const ignoredDirs = [...ignored].filter((p) => p.endsWith('/'));
  const isIgnored = (rel: string) => ignored.has(rel) || ignoredDirs.some((d) => rel.startsWith(d));

  return withOptionalWorktree(repo, headCommit, async (headWorktree) => {
    const headTree = headWorktree ?? repo;
    const { leaving, waves } = await inventorySides(repo, baseCommit, headCommit);
    // Targets by their directory's name, unless two share it (overlays/x and clusters/x): then by path.
    const basenames = selected.map(({ rel }) => path.posix.basename(rel));
    const plans: Plan[] = selected.map(({ rel, inBase, inHead }, i) => {
      const removed = inBase && leaving.has(rel);
      // A cluster leaving the inventory is rendered on the base side even when its files did not change: its prune list is the warning.
      const skip = inBase && inHead && !removed && !inputsTouched(findOverlayInputs(headTree, path.join(headTree, rel), isIgnored), changed);
      const name = basenames.filter((b) => b === basenames[i]).length > 1 ? rel : basenames[i]!;
      return { rel, name, inBase, inHead, skip, removedFromInventory: removed };
    });
    plans.sort((a, b) => naturalCompare(a.name, b.name) || naturalCompare(a.rel, b.rel));
    const needBase = plans.some((p) => p.inBase && !p.skip);
    const rendered = await withOptionalWorktree(repo, needBase ? baseCommit : undefined, (baseTree) => renderBoth(options, plans, headTree, baseTree));
    const overlays = rendered.map((o) => (waves.has(o.dir) ? { ...o, wave: waves.get(o.dir)! } : o));
    return {
      base: { ref: options.mergeBase ? `merge-base(${options.base}, ${options.head ?? 'HEAD'})` : options.base, commit: baseCommit },
      head: headCommit ? { ref: options.head!, commit: headCommit } : { ref: 'working tree' },
      overlays,
    };
  });
}


type SideResult = { objects: K8sObject[] } | { failure: string };

async function renderBoth(options: RunDiffOptions, plans: readonly Plan[], headTree: string, baseTree: string | undefined): Promise<OverlayDiff[]> {
  const jobs: Array<{ plan: Plan; side: 'base' | 'head'; overlay: Overlay }> = [];
  for (const plan of plans) {
    if (plan.skip) continue;
    if (plan.inBase && baseTree) jobs.push({ plan, side: 'base', overlay: { name: plan.name, dir: path.join(baseTree, plan.rel) } });
    if (plan.inHead) jobs.push({ plan, side: 'head', overlay: { name: plan.name, dir: path.join(headTree, plan.rel) } });
  }
  // Both sides in one call, in batches (several overlays per kustomize process, see render.ts):
  // an overlay's base and head, like a fleet's clusters, share object ids, which the batches allow.
  const { rendered, failures } = await renderOverlays(
    options.kustomize,
    jobs.map((j) => j.overlay),
    { batch: true, concurrency: options.concurrency ?? DEFAULT_CONCURRENCY },
  );
  const results = new Map<Overlay, SideResult>();
  for (const r of rendered) {
    try {
      results.set(r.overlay, { objects: parseObjects(r.yaml) });
    } catch (error) {
      results.set(r.overlay, { failure: `overlay ${r.overlay.name}: kustomize printed YAML that does not parse: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  for (const f of failures) results.set(f.overlay, { failure: f.message });

  const serverTargets: Array<ServerTarget & { index: number }> = [];
  const diffs = plans.map((plan, index) => {
    if (plan.skip) return { name: plan.name, dir: plan.rel, status: 'unchanged', notRendered: true, changes: [], warnings: [], failures: [] } satisfies OverlayDiff;
    const sideOf = (side: 'base' | 'head') => {
      const job = jobs.find((j) => j.plan === plan && j.side === side);
      return job ? results.get(job.overlay) : undefined;
    };
    const base = sideOf('base');
    const head = sideOf('head');
    const failed = (['base', 'head'] as const).flatMap((side) => {
      const r = side === 'base' ? base : head;
      return r && 'failure' in r ? [{ side, message: r.failure }] : [];
    });
    if (failed.length > 0) return { name: plan.name, dir: plan.rel, status: 'failed', changes: [], warnings: [], failures: failed } satisfies OverlayDiff;
    const diff = diffOverlay({
      name: plan.name,
      dir: plan.rel,
      ...(plan.removedFromInventory ? { removedFromInventory: true } : {}),
      ...(base && 'objects' in base ? { base: base.objects } : {}),
      ...(head && 'objects' in head ? { head: head.objects } : {}),
    });
    if (head && 'objects' in head && diff.changes.length > 0) serverTargets.push({ index, name: plan.name, base: base && 'objects' in base ? base.objects : [], head: head.objects });
    return diff;
  });
  if (!options.server) return diffs;
  // The server's warnings go beside the static ones (each message says where it comes from).
  const fromServer = await serverWarnings(serverTargets, options.server);
  serverTargets.forEach((t, i) => {
    const d = diffs[t.index]!;
    if (fromServer[i]?.length) diffs[t.index] = { ...d, warnings: [...d.warnings, ...fromServer[i]!] };
  });
  return diffs;
}
