// `npm run fleet -- promote --wave N`: moves the branch wave N follows with Flux (fleet/wave-N) to
// the commit wave N-1 runs, once every cluster of wave N-1 is Ready at it. What a cluster runs is
// what its Flux says: the Kustomization emqx-<cluster> (Ready, lastAppliedRevision), read through
// the kubeconfig context named after the cluster. The decision is a pure function over those
// facts (planPromotion); the command around it reads them and pushes the branch.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { which } from 'zx/core';
import { EXIT_FINDINGS, ToolError, UserError } from '../cli/errors.ts';
import { clusterAppName, waveBranch } from '../gitops/fleet.ts';
import { binaryPath } from '../tools/control-plane/binaries.ts';
import { fetchBranch, isAncestor, pushCommit, remoteBranchCommit } from '../tools/git.ts';
import { kubectl, type Kubectl } from '../tools/kubectl.ts';
import type { Cluster } from './inventory.ts';

/** What one cluster of the wave before runs, as its Flux reports it. */
export interface ClusterRun {
  readonly cluster: string;
  readonly ready: boolean;
  /** The Ready condition's message, or why the cluster could not be read. */
  readonly message: string;
  /** The commit it last applied (from `lastAppliedRevision`, `main@sha1:<commit>`). */
  readonly commit?: string;
}

export type Promotion =
  | { readonly kind: 'promote'; readonly wave: number; readonly to: string; readonly from?: string }
  | { readonly kind: 'refused'; readonly wave: number; readonly reason: string };

/** The commit of a Flux revision: `main@sha1:abc...`, `sha1:abc...` or a bare commit. */
export function commitOfRevision(revision: string | undefined): string | undefined {
  const m = revision ? /(?:^|[@:])([0-9a-f]{40})$/.exec(revision) : null;
  return m?.[1];
}

/**
 * Whether wave N may move, and to what: refused when a cluster of wave N-1 is not Ready (each one
 * named, with Flux's message), when they run different commits (the wave is still rolling out),
 * or when wave N already runs that commit or a later one (`ahead`: the branch's commit descends
 * from it).
 */
export function planPromotion(wave: number, before: readonly ClusterRun[], current: string | undefined, ahead: boolean): Promotion {
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
  if (current === to || ahead) return refuse(`nothing to promote: wave ${wave} (${waveBranch(wave)}) already runs ${current === to ? to.slice(0, 12) : `${current!.slice(0, 12)}, which contains ${to.slice(0, 12)}`}, what wave ${wave - 1} runs.`);
  return { kind: 'promote', wave, to, ...(current ? { from: current } : {}) };
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
  };
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
  readonly log?: (line: string) => void;
}

/**
 * Reads wave N-1, decides, and pushes fleet/wave-N when it may. A refusal is a UserError (exit 1)
 * that leaves every branch as it was.
 */
export async function promoteWave(options: PromoteOptions): Promise<Promotion & { kind: 'promote' }> {
  const { wave } = options;
  // Sites with `oci:` follow their wave's tag in a registry, which `npm run publish` moves; only the
  // clusters that follow Git say what wave N-1 runs on its branch.
  const before = options.clusters.filter((c) => c.wave === wave - 1 && !c.oci);
  if (before.length === 0 && options.clusters.some((c) => c.wave === wave - 1)) {
    throw new UserError(`cannot promote wave ${wave}: every cluster of wave ${wave - 1} pulls from an OCI registry, so no branch says what it runs. Fix: promote OCI sites by publishing wave ${wave}'s clusters (\`npm run publish -- --registry ... <cluster>...\`, docs/fleet.md, "Edge sites from an OCI registry").`, EXIT_FINDINGS);
  }
  if (!existsSync(options.kubeconfig)) throw new UserError(`--kubeconfig ${options.kubeconfig}: no such file. Fix: a kubeconfig with one context per cluster of wave ${wave - 1}, named as the cluster (${before.map((c) => c.name).join(', ')}).`);
  // kubectl keeps its cache beside the kubeconfig: work on a copy, so nothing is written beside the user's.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'emqx-gitops-promote-'));
  try {
    const copy = path.join(dir, 'kubeconfig');
    await copyFile(options.kubeconfig, copy);
    const k: Kubectl = { bin: options.kubectlBin, kubeconfig: copy };
    const runs = await Promise.all(before.map((c) => readClusterRun(k, c.name)));
    for (const r of runs) options.log?.(`wave ${wave - 1}: ${r.cluster}: ${r.ready ? `Ready at ${r.commit?.slice(0, 12)}` : r.message}`);
    const target = waveBranch(wave);
    const current = await remoteBranchCommit(options.repo, options.remote, target);
    const commits = [...new Set(runs.flatMap((r) => (r.commit ? [r.commit] : [])))];
    // Only a single Ready commit can be promoted; fetch the branch it came from so it can be pushed and compared.
    let ahead = false;
    if (commits.length === 1 && runs.every((r) => r.ready)) {
      await fetchBranch(options.repo, options.remote, branchOfWave(wave - 1, options.branch));
      if (current && current !== commits[0]) {
        await fetchBranch(options.repo, options.remote, target);
        ahead = await isAncestor(options.repo, commits[0]!, current);
      }
    }
    const plan = planPromotion(wave, runs, current, ahead);
    if (plan.kind === 'refused') throw new UserError(`cannot promote wave ${wave}: ${plan.reason}`, EXIT_FINDINGS);
    await pushCommit(options.repo, options.remote, plan.to, target);
    return plan;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
