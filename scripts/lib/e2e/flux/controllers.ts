// Flux on the ephemeral control plane: every pinned CRD, the flux-system namespace, and the pinned
// source-controller and kustomize-controller, run as processes beside the API server with the admin
// kubeconfig (no in-cluster ServiceAccount, Deployment or RBAC: what `flux install` adds for them
// is their identity in a real cluster, and the admin certificate stands in for it here). Also the
// readers of what Flux reports: the conditions of the GitRepository and of each Kustomization.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../../cli/errors.ts';
import { binaryPath, requireBinaries } from '../../tools/control-plane/binaries.ts';
import { freePorts } from '../../tools/control-plane/ports.ts';
import { waitUntil, WaitTimeout, type Server } from '../../tools/control-plane/processes.ts';
import type { ControlPlane } from '../../tools/control-plane/start.ts';
import type { DeployedObject } from '../cluster.ts';

export const FLUX_NAMESPACE = 'flux-system';
export const GIT_REPOSITORY = 'emqx';
export const FLUX_CONTROLLERS = ['source-controller', 'kustomize-controller'] as const;

const KUSTOMIZATIONS_API = `/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/${FLUX_NAMESPACE}/kustomizations`;
const GIT_REPOSITORIES_API = `/apis/source.toolkit.fluxcd.io/v1/namespaces/${FLUX_NAMESPACE}/gitrepositories`;

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface InventoryEntry {
  /** `<namespace>_<name>_<group>_<kind>`, as Flux writes it. */
  readonly id: string;
  readonly v: string;
}

export interface FluxKustomization {
  readonly metadata: { readonly name: string; readonly annotations?: Record<string, string> };
  readonly spec: { readonly path: string; readonly targetNamespace?: string };
  readonly status?: {
    readonly conditions?: readonly Condition[];
    readonly lastAppliedRevision?: string;
    readonly lastAttemptedRevision?: string;
    readonly inventory?: { readonly entries?: readonly InventoryEntry[] };
  };
}

export interface FluxGitRepository {
  readonly status?: { readonly conditions?: readonly Condition[]; readonly artifact?: { readonly revision?: string } };
}

/**
 * Starts both controllers as `flux install` configures them, but on loopback ports: they watch all
 * namespaces (the default), elect no leader, and source-controller serves its artifacts on
 * 127.0.0.1, where kustomize-controller fetches them.
 */
export async function startFluxControllers(cp: ControlPlane, timeoutMs: number): Promise<Server[]> {
  requireBinaries(FLUX_CONTROLLERS);
  await cp.kubectlOk(['create', 'namespace', FLUX_NAMESPACE]);
  const [scMetrics, scHealth, storage, kcMetrics, kcHealth] = (await freePorts(5)) as [number, number, number, number, number];
  const storagePath = path.join(cp.dir, 'flux-storage');
  await mkdir(storagePath, { recursive: true });
  const env = { KUBECONFIG: cp.kubeconfig, RUNTIME_NAMESPACE: FLUX_NAMESPACE };
  const common = ['--enable-leader-election=false', '--log-encoding=console', '--log-level=info'];
  const source = cp.startServer(
    'source-controller',
    [
      binaryPath('source-controller'),
      ...common,
      `--metrics-addr=127.0.0.1:${scMetrics}`,
      `--health-addr=127.0.0.1:${scHealth}`,
      `--storage-path=${storagePath}`,
      `--storage-addr=127.0.0.1:${storage}`,
      `--storage-adv-addr=127.0.0.1:${storage}`,
    ],
    env,
  );
  const kustomize = cp.startServer(
    'kustomize-controller',
    [
      binaryPath('kustomize-controller'),
      ...common,
      `--metrics-addr=127.0.0.1:${kcMetrics}`,
      `--health-addr=127.0.0.1:${kcHealth}`,
      // As `flux install` sets it: an overlay may only refer to files in the repository.
      '--no-remote-bases=true',
    ],
    env,
  );
  for (const [server, port] of [
    [source, scHealth],
    [kustomize, kcHealth],
  ] as const) {
    try {
      await waitUntil(
        `${server.name} /readyz`,
        timeoutMs,
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
          return res?.ok ? true : `HTTP ${res?.status ?? 'no answer'}`;
        },
        250,
        () => (server.exited !== undefined ? `${server.name} exited (${server.exited})` : undefined),
      );
    } catch (error) {
      if (error instanceof WaitTimeout) throw new ToolError(`${error.message}\nThe end of ${server.name}'s log:\n${cp.logTail(server.name)}`);
      throw error;
    }
  }
  return [source, kustomize];
}

export async function getKustomization(cp: ControlPlane, name: string): Promise<FluxKustomization | undefined> {
  const res = await cp.api(`${KUSTOMIZATIONS_API}/${name}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET Kustomization ${name}: HTTP ${res.status}`);
  return JSON.parse(res.body) as FluxKustomization;
}

export async function listKustomizations(cp: ControlPlane): Promise<FluxKustomization[]> {
  const res = await cp.api(KUSTOMIZATIONS_API);
  if (res.status !== 200) throw new Error(`list Kustomizations: HTTP ${res.status}`);
  return (JSON.parse(res.body) as { items: FluxKustomization[] }).items;
}

export async function getGitRepository(cp: ControlPlane): Promise<FluxGitRepository | undefined> {
  const res = await cp.api(`${GIT_REPOSITORIES_API}/${GIT_REPOSITORY}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET GitRepository ${GIT_REPOSITORY}: HTTP ${res.status}`);
  return JSON.parse(res.body) as FluxGitRepository;
}

export function readyCondition(obj: { status?: { conditions?: readonly Condition[] } } | undefined): Condition | undefined {
  return obj?.status?.conditions?.find((c) => c.type === 'Ready');
}

/** `sha1:abc...` or `main@sha1:abc...` -> `abc...` (Flux v1 writes `<branch>@sha1:<commit>`). */
export function commitOf(revision: string | undefined): string | undefined {
  return revision ? /sha1:([0-9a-f]{40})/.exec(revision)?.[1] : undefined;
}

/** What `flux reconcile` does: a new `reconcile.fluxcd.io/requestedAt` makes the controller act now. */
export async function requestReconcile(cp: ControlPlane, kind: 'gitrepository' | 'kustomization', name: string): Promise<void> {
  const resource = kind === 'gitrepository' ? `gitrepositories.source.toolkit.fluxcd.io/${name}` : `kustomizations.kustomize.toolkit.fluxcd.io/${name}`;
  await cp.kubectlOk(['-n', FLUX_NAMESPACE, 'annotate', '--overwrite', resource, `reconcile.fluxcd.io/requestedAt=${new Date().toISOString()}`]);
}

/** The Ready condition of the GitRepository and every Kustomization, one line each, for a failure. */
export async function describeFlux(cp: ControlPlane): Promise<string> {
  const lines: string[] = [];
  const line = (what: string, c: Condition | undefined, rev: string | undefined) =>
    `  ${what}: ${c ? `Ready=${c.status} (${c.reason ?? ''}) ${c.message ?? ''}` : 'no Ready condition yet'}${rev ? ` [${rev}]` : ''}`;
  try {
    const repo = await getGitRepository(cp);
    lines.push(line(`GitRepository ${GIT_REPOSITORY}`, readyCondition(repo), repo?.status?.artifact?.revision));
    for (const k of await listKustomizations(cp)) lines.push(line(`Kustomization ${k.metadata.name}`, readyCondition(k), k.status?.lastAppliedRevision));
  } catch (error) {
    lines.push(`  (could not read Flux's objects: ${error instanceof Error ? error.message : String(error)})`);
  }
  return lines.join('\n');
}

/** What a Kustomization applied, from its inventory (`<namespace>_<name>_<group>_<kind>`). */
export function inventoryObjects(k: FluxKustomization): DeployedObject[] {
  return (k.status?.inventory?.entries ?? []).map((e) => {
    const [namespace = '', name = '', group = '', kind = ''] = e.id.split('_');
    return { group, kind, namespace: namespace || undefined, name };
  });
}
