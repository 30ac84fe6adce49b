// `npm run fleet -- promote --wave N`: moves what wave N follows to the commit wave N-1 runs, once
// every cluster of wave N-1 is Ready at it. Wave N follows fleet/wave-N on the Git path, and each
// OCI site of it its repository's `wave-N` tag (promote-oci.ts). What a cluster runs is what its
// Flux says: the Kustomization emqx-<cluster> (Ready, lastAppliedRevision), read through the
// kubeconfig context named after the cluster; for an OCI site, the commit its artifact names. The
// decision is a pure function over those facts (planPromotion); the command around it reads them
// and pushes the branch and moves the tags.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { which } from 'zx/core';
import { EXIT_FINDINGS, EXIT_USAGE, ToolError, UserError } from '../cli/errors.ts';
import { clusterAppName, waveBranch } from '../gitops/fleet.ts';
import { binaryPath } from '../tools/control-plane/binaries.ts';
import { fetchBranch, hasCommit, isAncestor, pushCommit, remoteBranchCommit } from '../tools/git.ts';
import { kubectl, type Kubectl } from '../tools/kubectl.ts';
import type { Cluster } from './inventory.ts';
import { commitOfArtifact, digestOfRevision, isOciCluster, moveWaveTag, readOciTarget, type OciTarget, type RegistryAccess } from './promote-oci.ts';
import { commitOfRevision } from '../model/waves.ts';

/** What one cluster of the wave before runs, as its Flux reports it. */
export interface ClusterRun {
  readonly cluster: string;
  readonly ready: boolean;
  /** The Ready condition's message, or why the cluster could not be read. */
  readonly message: string;
  /** The commit it last applied (from `lastAppliedRevision`, `main@sha1:<commit>`; for an OCI site, its artifact's). */
  readonly commit?: string;
  /** `lastAppliedRevision` as Flux wrote it. */
  readonly revision?: string;
}

/** What wave N follows: fleet/wave-N, or an OCI site's `<registry>/<cluster>:wave-N`. */
export interface WaveTarget {
  readonly name: string;
  /** The commit it points at now; none when it does not exist yet. */
  readonly current?: string;
  /** It points at a commit that contains the one wave N-1 runs. */
  readonly ahead: boolean;
  /** Why it cannot point at that commit (an OCI site whose artifact of it was never published). */
  readonly unpublished?: string;
}

export interface Move {
  readonly name: string;
  readonly from?: string;
}

export type Promotion =
  | { readonly kind: 'promote'; readonly wave: number; readonly to: string; readonly moves: readonly Move[] }
  | { readonly kind: 'refused'; readonly wave: number; readonly reason: string };

/**
 * Whether wave N may move, and what: refused when a cluster of wave N-1 is not Ready (each one
 * named, with Flux's message), when they run different commits (the wave is still rolling out),
 * when a target that must move has no artifact of that commit, or when every target already runs
 * that commit or a later one (`ahead`).
 */
export function planPromotion(wave: number, before: readonly ClusterRun[], targets: readonly WaveTarget[]): Promotion {
  const refuse = (reason: string): Promotion => ({ kind: 'refused', wave, reason });
  if (before.length === 0) return refuse(`wave ${wave - 1} has no cluster.`);
  const notReady = before.filter((c) => !c.ready || !c.commit);
  if (notReady.length > 0) {
    return refuse(
      `${notReady.length} of ${before.length} clusters of wave ${wave - 1} ${notReady.length === 1 ? 'is' : 'are'} not Ready:\n` +
        notReady.map((c) => `  ${c.cluster}: ${c.message}`).join('\n') +
        `\nFix: let wave ${wave - 1} become Ready (or fix what keeps it from it, and merge), then promote again. Wave ${wave} keeps running what it runs.`,
    );
  }
  const commits = [...new Set(before.map((c) => c.commit!))];
  if (commits.length > 1) {
    const by = commits.map((commit) => `  ${commit.slice(0, 12)}: ${before.filter((c) => c.commit === commit).map((c) => c.cluster).join(', ')}`);
    return refuse(`the clusters of wave ${wave - 1} run ${commits.length} different commits:\n${by.join('\n')}\nFix: wait until wave ${wave - 1} runs one commit, then promote again.`);
  }
  const to = commits[0]!;
  const moving = targets.filter((t) => t.current !== to && !t.ahead);
  if (moving.length === 0) {
    const runs = (t: WaveTarget) => (t.current === to ? to.slice(0, 12) : `${t.current!.slice(0, 12)}, which contains ${to.slice(0, 12)}`);
    const what = targets.length === 1 ? `wave ${wave} (${targets[0]!.name}) already runs ${runs(targets[0]!)}` : `wave ${wave} already runs it:\n${targets.map((t) => `  ${t.name}: ${runs(t)}`).join('\n')}\n`;
    return refuse(`nothing to promote: ${what}${targets.length === 1 ? ', what' : 'It is what'} wave ${wave - 1} runs.`);
  }
  const unpublished = moving.filter((t) => t.unpublished);
  if (unpublished.length > 0) return refuse(`wave ${wave - 1} runs ${to.slice(0, 12)}, which wave ${wave} cannot be moved to:\n${unpublished.map((t) => `  ${t.unpublished}`).join('\n')}\nNothing was moved.`);
  return { kind: 'promote', wave, to, moves: moving.map((t) => ({ name: t.name, ...(t.current ? { from: t.current } : {}) })) };
}

/** The branch wave N follows: the repository's own for wave 1, fleet/wave-N after it. */
export function branchOfWave(wave: number, repositoryBranch: string): string {
  return wave === 1 ? repositoryBranch : waveBranch(wave);
}

interface KustomizationStatus {
  status?: { conditions?: Array<{ type: string; status: string; message?: string }>; lastAppliedRevision?: string };
}

/** What a cluster's Flux runs, read with `kubectl --context <cluster>`; an unreachable cluster is not Ready, with kubectl's reason. */
export async function readClusterRun(k: Kubectl, cluster: string): Promise<ClusterRun> {
  const name = clusterAppName(cluster);
  const out = await kubectl(k, ['--context', cluster, '--request-timeout', '20s', '-n', 'flux-system', 'get', 'kustomizations.kustomize.toolkit.fluxcd.io', name, '-o', 'json'], { timeoutMs: 30_000 });
  if (out.exitCode !== 0) {
    const why = out.stderr.trim().split('\n').pop() ?? `kubectl exited ${out.exitCode}`;
    return { cluster, ready: false, message: `cannot read Kustomization flux-system/${name} through context ${cluster}: ${why}` };
  }
  const status = (JSON.parse(out.stdout) as KustomizationStatus).status;
  const ready = status?.conditions?.find((c) => c.type === 'Ready');
  const commit = commitOfRevision(status?.lastAppliedRevision);
  return {
    cluster,
    ready: ready?.status === 'True',
    message: ready ? `Ready=${ready.status}${ready.message ? `: ${ready.message}` : ''}` : 'no Ready condition yet',
    ...(commit ? { commit } : {}),
    ...(status?.lastAppliedRevision ? { revision: status.lastAppliedRevision } : {}),
  };
}

/** An OCI site's run: Ready at `wave-N@sha256:<digest>`, and the commit that artifact names (from the registry). */
async function withArtifactCommit(run: ClusterRun, c: Cluster, access: () => Promise<RegistryAccess>): Promise<ClusterRun> {
  if (!isOciCluster(c) || !run.ready) return run;
  const digest = digestOfRevision(run.revision);
  if (!digest) return { ...run, ready: false, message: `${run.message}; applied ${run.revision ?? 'nothing'}, not an OCI artifact's digest` };
  const found = await commitOfArtifact(c, await access(), digest);
  return 'commit' in found ? { ...run, commit: found.commit } : { ...run, ready: false, message: `Ready at ${digest}, but ${found.problem}` };
}

/** The pinned kubectl (`npm run setup -- --control-plane`), else the one on PATH. */
export async function findKubectl(): Promise<string> {
  if (existsSync(binaryPath('kubectl'))) return binaryPath('kubectl');
  const onPath = await which('kubectl', { nothrow: true });
  if (!onPath) throw new ToolError('promote reads each cluster with kubectl, and there is none: run `npm run setup -- --control-plane` (it builds the pinned kubectl) or install kubectl.');
  return onPath;
}

export interface PromoteOptions {
  readonly repo: string;
  /** The git remote Flux reads (its URL is gitops/repository/repository.env's). */
  readonly remote: string;
  /** The repository's branch (repository.env's `revision`): what wave 1 follows. */
  readonly branch: string;
  readonly wave: number;
  readonly clusters: readonly Cluster[];
  /** A kubeconfig with one context per cluster, named as the cluster. */
  readonly kubeconfig: string;
  readonly kubectlBin: string;
  /** oras and the registries' CA, asked for only when a cluster of wave N-1 or N pulls from a registry. */
  readonly registryAccess?: () => Promise<RegistryAccess>;
  readonly log?: (line: string) => void;
}

/**
 * Reads wave N-1, decides, then pushes fleet/wave-N (when a cluster of wave N follows Git) and moves
 * the `wave-N` tag of each OCI site of wave N. A refusal is a UserError (exit 1) that leaves every
 * branch and tag as it was; a tag that fails to move after others did is exit 2 naming both.
 */
export async function promoteWave(options: PromoteOptions): Promise<Promotion & { kind: 'promote' }> {
  const { wave } = options;
  const before = options.clusters.filter((c) => c.wave === wave - 1);
  const inWave = options.clusters.filter((c) => c.wave === wave);
  const ociSites = inWave.filter(isOciCluster);
  const followsGit = inWave.length === 0 || inWave.some((c) => !c.oci);
  let access: Promise<RegistryAccess> | undefined;
  const registry = () => {
    if (!options.registryAccess) throw new ToolError(`promote reads and tags OCI artifacts, but was given no oras`);
    return (access ??= options.registryAccess());
  };
  if (!existsSync(options.kubeconfig)) throw new UserError(`--kubeconfig ${options.kubeconfig}: no such file. Fix: a kubeconfig with one context per cluster of wave ${wave - 1}, named as the cluster (${before.map((c) => c.name).join(', ')}).`);
  // kubectl keeps its cache beside the kubeconfig: work on a copy, so nothing is written beside the user's.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'emqx-gitops-promote-'));
  try {
    const copy = path.join(dir, 'kubeconfig');
    await copyFile(options.kubeconfig, copy);
    const k: Kubectl = { bin: options.kubectlBin, kubeconfig: copy };
    const runs = await Promise.all(before.map(async (c) => withArtifactCommit(await readClusterRun(k, c.name), c, registry)));
    for (const r of runs) options.log?.(`wave ${wave - 1}: ${r.cluster}: ${r.ready ? `Ready at ${r.commit?.slice(0, 12)}` : r.message}`);
    const commits = [...new Set(runs.flatMap((r) => (r.commit ? [r.commit] : [])))];
    const settled = commits.length === 1 && runs.length > 0 && runs.every((r) => r.ready);
    const to = settled ? commits[0]! : undefined;

    const targets: WaveTarget[] = [];
    const branch = waveBranch(wave);
    const branchNow = followsGit ? await remoteBranchCommit(options.repo, options.remote, branch) : undefined;
    const oci: OciTarget[] = [];
    // Only a single Ready commit can be promoted: only then is there something to compare with.
    if (to) {
      // The branch wave N-1 follows brings `to` here, to push it and to tell whether a target is ahead of it.
      await fetchBranch(options.repo, options.remote, branchOfWave(wave - 1, options.branch));
      if (followsGit && branchNow && branchNow !== to) await fetchBranch(options.repo, options.remote, branch);
      const ahead = async (current: string | undefined) => current !== undefined && current !== to && (await isAncestorIfKnown(options.repo, to, current));
      if (followsGit) targets.push({ name: branch, ...(branchNow ? { current: branchNow } : {}), ahead: await ahead(branchNow) });
      for (const c of ociSites) {
        const t = await readOciTarget(c, wave, to, await registry());
        oci.push(t);
        targets.push({ name: t.name, ...(t.current ? { current: t.current } : {}), ahead: await ahead(t.current), ...('problem' in t.published ? { unpublished: t.published.problem } : {}) });
      }
    }
    const plan = planPromotion(wave, runs, targets);
    if (plan.kind === 'refused') throw new UserError(`cannot promote wave ${wave}: ${plan.reason}`, EXIT_FINDINGS);
    const done: string[] = [];
    for (const move of plan.moves) {
      if (move.name === branch) {
        await pushCommit(options.repo, options.remote, plan.to, branch);
      } else {
        const t = oci.find((o) => o.name === move.name)!;
        const site = ociSites.find((c) => c.name === t.cluster)!;
        const moved = await moveWaveTag(site, wave, (t.published as { digest: string }).digest, await registry());
        if (!moved.ok) {
          throw new UserError(`moving ${t.name} to ${plan.to.slice(0, 12)} failed: ${moved.message}\nMoved: ${done.join(', ') || '(nothing)'}; not moved: ${plan.moves.slice(done.length).map((m) => m.name).join(', ')}.\nFix: run the same command again; it moves what is left.`, EXIT_USAGE);
        }
      }
      done.push(move.name);
    }
    return plan;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Whether `ancestor` is in `commit`'s history; a commit this clone does not have (an artifact of a commit never fetched) is not. */
async function isAncestorIfKnown(repo: string, ancestor: string, commit: string): Promise<boolean> {
  if (!(await hasCommit(repo, commit))) return false;
  return isAncestor(repo, ancestor, commit);
}
