// A GitOps engine the e2e proves "git push deploys" with: how to start its controllers beside the
// control plane, what it reports when a stage fails, the two things every shared stage needs of it
// (which workloads it deployed, and "sync to this commit"), and its own stages in order. A new
// engine is a new set of stages (e2e/flux/, e2e/argocd/), not a branch in the shared ones.
import type { Server } from '../tools/control-plane/processes.ts';
import type { ControlPlane } from '../tools/control-plane/start.ts';
import type { WorkloadRef } from './cluster.ts';
import type { E2eContext, Stage } from './context.ts';

export const ENGINE_NAMES = ['flux', 'argocd'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export interface Engine<Results> {
  readonly name: EngineName;
  /** As a user names it: "Flux", "Argo CD". */
  readonly title: string;
  /** The servers whose logs a failure quotes. */
  readonly components: readonly string[];
  /** Starts the controllers on `plane` (CRDs are installed); they stop with it. */
  readonly start: (plane: ControlPlane, waitMs: number) => Promise<Server[]>;
  /** The engine's view of every object it manages, one line each, for a failed stage. */
  readonly describe: (plane: ControlPlane) => Promise<string>;
  /** The engine's stages after the shared set-up, in order. */
  readonly run: (ctx: E2eContext, stage: Stage) => Promise<Results>;
}

/** What the shared stages (config-change.ts) need of an engine. */
export interface EngineSync {
  /** Every workload the engine's objects for the deployed overlays hold. */
  readonly workloads: (ctx: E2eContext) => Promise<WorkloadRef[]>;
  /** Makes the engine fetch and apply `commit` now, and waits until every overlay is healthy at it. Returns stand-in Secrets written on the way. */
  readonly syncTo: (ctx: E2eContext, commit: string) => Promise<string[]>;
}
