// What every e2e stage works on: the test repository and its git server, the control plane, the
// engine's controllers, and the bounded wait. One context per engine run; the stages of an engine
// (e2e/flux/, e2e/argocd/) take it and return their part of the report.
import { UserError, EXIT_FINDINGS, EXIT_USAGE } from '../cli/errors.ts';
import type { GitHttpServer } from '../tools/git-http.ts';
import { waitUntil, type Server } from '../tools/control-plane/processes.ts';
import type { ControlPlane } from '../tools/control-plane/start.ts';
import type { TestRepository } from './repository.ts';

export interface E2eContext {
  readonly repo: TestRepository;
  readonly server: GitHttpServer;
  readonly plane: ControlPlane;
  /** The overlays of the pushed tree, by directory name. */
  readonly overlays: readonly string[];
  readonly log: (line: string) => void;
  /** Bound on each wait. */
  readonly waitMs: number;
  /** Polls `probe` for at most waitMs; fails at once if one of the engine's controllers died. */
  readonly wait: (what: string, probe: () => Promise<true | string>) => Promise<number>;
}

export function makeWait(waitMs: number, controllers: () => readonly Server[]): E2eContext['wait'] {
  // A controller that died makes every later wait pointless: fail at once, saying which.
  const failFast = () => controllers().map((s) => (s.exited !== undefined ? `${s.name} exited (${s.exited})` : '')).find(Boolean);
  return (what, probe) => waitUntil(what, waitMs, probe, 500, failFast);
}

export interface StageTiming {
  readonly name: string;
  readonly seconds: number;
}

/** A stage that failed: exit 1, with what it waited for, what the engine says and the controllers' logs. */
export class E2eFailure extends UserError {
  constructor(message: string) {
    super(message, EXIT_FINDINGS);
    this.name = 'E2eFailure';
  }
}

export const seconds = (ms: number): number => Math.round(ms / 100) / 10;

export function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

export type Stage = <T>(name: string, body: () => Promise<T>) => Promise<T>;

/**
 * Runs named stages in turn, logging and timing each; a failure becomes an E2eFailure (or stays
 * exit 2 for a tool that is missing or broken) carrying whatever `explain` says about the state.
 */
export function stageRunner(log: (line: string) => void, stages: StageTiming[], explain: () => Promise<string[]>): Stage {
  const began = Date.now();
  return async (name, body) => {
    const t0 = Date.now();
    log(`▶ ${name}`);
    try {
      const result = await body();
      const s = seconds(Date.now() - t0);
      stages.push({ name, seconds: s });
      log(`✔ ${name} (${s.toFixed(1)} s; ${seconds(Date.now() - began).toFixed(1)} s in all)`);
      return result;
    } catch (error) {
      const what = error instanceof Error ? error.message : String(error);
      const parts = [`e2e stage "${name}" failed after ${seconds(Date.now() - t0).toFixed(1)} s: ${what}`, ...(await explain().catch((e: Error) => [`(could not describe the state: ${e.message})`]))];
      if (error instanceof UserError && error.exitCode === EXIT_USAGE) throw new UserError(parts.join('\n'), EXIT_USAGE);
      throw new E2eFailure(parts.join('\n'));
    }
  };
}
