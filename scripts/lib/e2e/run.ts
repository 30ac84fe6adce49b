// `npm run e2e`: git push deploys, for real. For each engine (Flux, Argo CD), on its own ephemeral
// control plane and from its own clone of the working tree served over git's smart HTTP on
// 127.0.0.1: the shared set-up stages (clone and serve; start the plane and the engine), then the
// engine's own stages (e2e/flux/engine.ts, e2e/argocd/engine.ts): bootstrap as the README says and
// the pushes a user makes. Every wait is bounded; everything started is stopped whatever happens
// (processes.ts also kills the servers and removes the temporary directories on Ctrl-C).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crdModules, installPinnedCrds } from '../tools/control-plane/crds.ts';
import { insidePrivateNetwork, listeningSockets, networkInterfaces, type ListeningSocket } from '../tools/control-plane/netns.ts';
import { forgetTempDir, registerTempDir, WaitTimeout, type Server } from '../tools/control-plane/processes.ts';
import { startControlPlane, type ControlPlane } from '../tools/control-plane/start.ts';
import { serveGitOverHttp, type GitHttpServer } from '../tools/git-http.ts';
import { listOverlays } from '../model/overlays.ts';
import { REPO_ROOT } from '../util/paths.ts';
import { ARGOCD_ENGINE, type ArgoCdResults } from './argocd/engine.ts';
import { describeWorkloads } from './cluster.ts';
import { E2eFailure, indent, makeWait, seconds, stageRunner, type E2eContext, type StageTiming } from './context.ts';
import type { Engine, EngineName } from './engine.ts';
import { FLUX_ENGINE, type FluxResults } from './flux/engine.ts';
import { BARE_NAME, createTestRepository, E2E_BRANCH } from './repository.ts';

export { E2eFailure, type StageTiming } from './context.ts';

export interface E2eOptions {
  /** The working tree to test (default: this repository). */
  readonly source?: string;
  /** Which engines, in order (default both). */
  readonly engines?: readonly EngineName[];
  readonly log?: (line: string) => void;
  /** Bound on each wait (default 3 min). */
  readonly waitMs?: number;
}

interface RunCommon {
  /** The temporary directory of the clones; removed when the run ends. */
  readonly dir: string;
  readonly stages: StageTiming[];
  readonly overlays: string[];
  /** Every server the run started, so a caller can check that none outlived it. */
  readonly processes: ReadonlyArray<{ readonly name: string; readonly pid: number }>;
  /**
   * Inside the private network namespace (Argo CD's runs): its interfaces and every TCP listener
   * at the end of the last stage, when everything the run started is up.
   */
  readonly network?: { readonly interfaces: string[]; readonly listening: ListeningSocket[] };
}

export type FluxRun = RunCommon & { readonly engine: 'flux' } & FluxResults;
export type ArgoCdRun = RunCommon & { readonly engine: 'argocd' } & ArgoCdResults;
export type E2eRun = FluxRun | ArgoCdRun;

export interface E2eReport {
  readonly runs: E2eRun[];
}

const ENGINES: { readonly flux: Engine<FluxResults>; readonly argocd: Engine<ArgoCdResults> } = { flux: FLUX_ENGINE, argocd: ARGOCD_ENGINE };

export async function runE2e(options: E2eOptions = {}): Promise<E2eReport> {
  const runs: E2eRun[] = [];
  for (const name of options.engines ?? (['flux', 'argocd'] as const)) {
    if (name === 'flux') runs.push({ engine: 'flux', ...(await runEngine(ENGINES.flux, options)) });
    else runs.push({ engine: 'argocd', ...(await runEngine(ENGINES.argocd, options)) });
  }
  return { runs };
}

async function runEngine<R>(engine: Engine<R>, options: E2eOptions): Promise<RunCommon & R> {
  const log = options.log ?? (() => {});
  const waitMs = options.waitMs ?? 180_000;
  const source = options.source ?? REPO_ROOT;
  const stages: StageTiming[] = [];
  let cp: ControlPlane | undefined;
  let server: GitHttpServer | undefined;
  let controllers: readonly Server[] = [];
  const dir = await mkdtemp(path.join(os.tmpdir(), `emqx-gitops-e2e-${engine.name}-`));
  registerTempDir(dir);
  const began = Date.now();
  log(`${engine.title}:`);

  const explain = async (): Promise<string[]> => {
    const parts: string[] = [];
    if (cp) {
      parts.push(`What ${engine.title} reports:\n${await engine.describe(cp)}`);
      parts.push(`The workloads:\n${await describeWorkloads(cp).catch((e: Error) => `  (could not read them: ${e.message})`)}`);
      for (const c of engine.components) parts.push(`The end of ${c}'s log:\n${indent(cp.logTail(c, 12))}`);
    }
    if (server && server.requests.length > 0) parts.push(`The git server's last requests:\n${indent(server.requests.slice(-5).join('\n'))}`);
    return parts;
  };
  const stage = stageRunner(log, stages, explain);

  try {
    const repo = await stage('clone the working tree and serve it over HTTP', async () => {
      const r = await createTestRepository(source, dir);
      await r.commit(`e2e: the working tree of ${source} as it is now, uncommitted changes included`);
      server = await serveGitOverHttp(r.projectRoot);
      // What docs/gitops.md tells a fork to do: the one line that names the repository.
      await r.edit('gitops/repository/repository.env', (t) => t.replace(/^url=.*$/m, `url=${server!.urlOf(BARE_NAME)}`).replace(/^revision=.*$/m, `revision=${E2E_BRANCH}`));
      await r.commit('gitops: deploy from the e2e git server');
      await r.push();
      log(`  ${server.urlOf(BARE_NAME)} (${E2E_BRANCH}) from ${source}`);
      return r;
    });
    const overlays = listOverlays(path.join(repo.work, 'overlays')).map((o) => o.name);

    const plane = await stage(`start the control plane and ${engine.title}`, async () => {
      cp = await startControlPlane({ log: (l) => log(`  ${l}`) });
      log(`  CRDs from ${crdModules(await installPinnedCrds(cp)).join(', ')}`);
      controllers = await engine.start(cp, waitMs);
      return cp;
    });

    const ctx: E2eContext = { repo, server: server!, plane, overlays, log, waitMs, wait: makeWait(waitMs, () => controllers) };
    const results = await engine.run(ctx, stage);
    const network = insidePrivateNetwork() ? { interfaces: networkInterfaces(), listening: listeningSockets() } : undefined;
    const processes = plane.servers().map((s) => ({ name: s.name, pid: s.child.pid ?? 0 }));
    log(`${engine.title} e2e passed in ${seconds(Date.now() - began).toFixed(1)} s`);
    return { dir, stages, overlays, processes, ...(network ? { network } : {}), ...results };
  } catch (error) {
    if (error instanceof WaitTimeout) throw new E2eFailure(error.message);
    throw error;
  } finally {
    log('▶ tear down');
    const t0 = Date.now();
    await (cp as ControlPlane | undefined)?.stop();
    await (server as GitHttpServer | undefined)?.stop();
    await rm(dir, { recursive: true, force: true });
    forgetTempDir(dir);
    log(`✔ tear down (${seconds(Date.now() - t0).toFixed(1)} s)`);
  }
}
