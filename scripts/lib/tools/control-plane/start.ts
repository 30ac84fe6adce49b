// An ephemeral Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok (fake nodes in three zones: pods are scheduled and become Ready without a
// container runtime; their addresses are virtual and never contacted). Everything lives in one
// temporary directory and is torn down by `stop()`, and in any case when the process exits.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ToolError } from '../../cli/errors.ts';
import { displayPath } from '../../util/paths.ts';
import { kubectl, kubectlOk, toKubectlInput, type Kubectl, type KubectlOptions, type KubectlResult } from '../kubectl.ts';
import { binaryPath, requireBinaries, SETUP_COMMAND, type ControlPlaneBinary } from './binaries.ts';
import { DEFAULT_CONTROLLERS } from './controllers.ts';
import { request, type HttpAnswer, type Identity } from './http.ts';
import { makePki, type Pki } from './pki.ts';
import { freePorts } from './ports.ts';
import { forgetTempDir, logTail, registerTempDir, startServer, stopServer, waitUntil, WaitTimeout, type Server } from './processes.ts';
import { KWOK_STAGES_DIR } from '../../setup/setup-control-plane.ts';
import { apiServerArgv, controllerManagerArgv, etcdArgv, kwokArgv, schedulerArgv, type PlaneLayout } from './component-args.ts';
import { DEFAULT_STORAGE_CLASS, fakeNode, kubeconfigFor, ZONES } from './cluster-objects.ts';

export { DEFAULT_STORAGE_CLASS, FAKE_NODE_ANNOTATION, fakeNode, ZONES } from './cluster-objects.ts';


export interface StartOptions {
  /** Fake nodes, spread over ZONES in turn. */
  readonly nodes?: number;
  /** One line per step, with its elapsed time. */
  readonly log?: (line: string) => void;
  /** Bound on each start-up wait. */
  readonly timeoutMs?: number;
  /**
   * kube-controller-manager's `--controllers` (controllers.ts): DEFAULT_CONTROLLERS (`*`) unless
   * set, WITHOUT_ENDPOINTS_CONTROLLERS for a cluster that no longer fills v1 Endpoints.
   */
  readonly controllers?: readonly string[];
}

export interface ControlPlane {
  readonly dir: string;
  readonly kubeconfig: string;
  /** `https://127.0.0.1:PORT` */
  readonly server: string;
  readonly pki: Pki;
  readonly nodeNames: readonly string[];
  /** The `--controllers` list kube-controller-manager runs with. */
  readonly controllers: readonly string[];
  readonly startedInMs: number;
  readonly kubectl: (args: readonly string[], options?: KubectlOptions) => Promise<KubectlResult>;
  readonly kubectlOk: (args: readonly string[], options?: KubectlOptions) => Promise<string>;
  /** A request to the API server as the admin, or as `who` (a ServiceAccount token). */
  readonly api: (apiPath: string, options?: { method?: string; body?: unknown; token?: string }) => Promise<HttpAnswer>;
  /** Starts another server beside the control plane (Flux's controllers); stopped with it. */
  readonly startServer: (name: string, argv: readonly string[], env?: Readonly<Record<string, string>>) => Server;
  readonly logTail: (name: string, lines?: number) => string;
  /** Every server started so far, the plane's own and those started beside it. */
  readonly servers: () => readonly Server[];
  /** Stops every server and removes the directory. Safe to call twice. */
  readonly stop: () => Promise<void>;
  /** Stops the servers but keeps the directory (for `--keep` the caller does not call stop). */
}

const CORE: readonly ControlPlaneBinary[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kwok'];

export async function startControlPlane(options: StartOptions = {}): Promise<ControlPlane> {
  requireBinaries(CORE);
  if (!existsSync(KWOK_STAGES_DIR)) throw new ToolError(`${displayPath(KWOK_STAGES_DIR)} is missing (kwok's stage files).\nFix: run \`${SETUP_COMMAND}\` once.`);
  const log = options.log ?? (() => {});
  const timeoutMs = options.timeoutMs ?? 60_000;
  const controllers = options.controllers ?? DEFAULT_CONTROLLERS;
  const began = Date.now();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'emqx-gitops-cp-'));
  registerTempDir(dir);
  const servers: Server[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // All throw-away: no order to respect, nothing to flush.
    await Promise.all(servers.map((s) => stopServer(s)));
    await rm(dir, { recursive: true, force: true });
    forgetTempDir(dir);
  };
  try {
    const pki = await makePki(dir);
    const [etcdClient, etcdPeer, etcdMetrics, apiPort, kcmPort, schedPort, kwokPort] = (await freePorts(7)) as [number, number, number, number, number, number, number];
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = path.join(dir, 'kubeconfig');
    const layout: PlaneLayout = { dir, pki, kubeconfig, controllers, ports: { etcdClient, etcdPeer, etcdMetrics, apiPort, kcmPort, schedPort, kwokPort } };
    const start = (name: string, argv: readonly string[], env: Readonly<Record<string, string>> = {}): Server => {
      const s = startServer(name, argv, path.join(dir, `${name}.log`), env);
      servers.push(s);
      return s;
    };
    const failFast = (s: Server) => () => (s.exited !== undefined ? `${s.name} exited (${s.exited})` : undefined);
    const step = async (what: string, s: Server, probe: () => Promise<true | string>): Promise<void> => {
      try {
        const waited = await waitUntil(what, timeoutMs, probe, 200, failFast(s));
        log(`${what}: ready in ${(waited / 1000).toFixed(1)} s`);
      } catch (error) {
        if (error instanceof WaitTimeout) // The log is quoted, not named: the temporary directory goes with the teardown.
          throw new ToolError(`the control plane did not come up: ${error.message}\nThe end of ${s.name}'s log:\n${logTail(s)}`);
        throw error;
      }
    };

    const etcd = start('etcd', etcdArgv(layout));
    await step('etcd', etcd, async () => {
      const res = await fetch(`http://127.0.0.1:${etcdMetrics}/health`).catch(() => undefined);
      return res?.ok ? true : `HTTP ${res?.status ?? 'no answer'}`;
    });

    const apiserver = start('kube-apiserver', apiServerArgv(layout));
    const admin: Identity = { ca: await readFile(pki.caCert, 'utf8'), cert: await readFile(pki.adminCert, 'utf8'), key: await readFile(pki.adminKey, 'utf8') };
    const api = (apiPath: string, o: { method?: string; body?: unknown; token?: string } = {}): Promise<HttpAnswer> =>
      request(`${server}${apiPath}`, o.token ? { ca: admin.ca, token: o.token } : admin, o);
    await step('kube-apiserver', apiserver, async () => {
      const res = await api('/readyz').catch((e: Error) => ({ status: 0, body: e.message }));
      return res.status === 200 ? true : `HTTP ${res.status} ${res.body.slice(0, 200)}`;
    });

    await writeFile(kubeconfig, stringify(kubeconfigFor(server, pki)), { mode: 0o600 });
    const k: Kubectl = { bin: binaryPath('kubectl'), kubeconfig };

    const kcm = start('kube-controller-manager', controllerManagerArgv(layout));
    const scheduler = start('kube-scheduler', schedulerArgv(layout));
    const kwok = start('kwok', kwokArgv(layout));

    // The service account controller runs once the controller-manager is up: a meaningful ready check.
    await step('kube-controller-manager', kcm, async () => {
      const res = await api('/api/v1/namespaces/default/serviceaccounts/default');
      return res.status === 200 ? true : `default ServiceAccount: HTTP ${res.status}`;
    });

    const nodeNames = Array.from({ length: options.nodes ?? 3 }, (_, i) => `kwok-node-${i}`);
    await kubectlOk(k, ['apply', '-f', '-'], { input: toKubectlInput([...nodeNames.map((n, i) => fakeNode(n, ZONES[i % ZONES.length]!)), DEFAULT_STORAGE_CLASS]) });
    await step(`${nodeNames.length} kwok nodes Ready`, kwok, async () => {
      const res = await api('/api/v1/nodes');
      const items = (JSON.parse(res.body) as { items?: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }> }).items ?? [];
      const ready = items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      return ready >= nodeNames.length ? true : `${ready} of ${nodeNames.length} Ready`;
    });
    // The scheduler has no cheaper sign of life than its health endpoint; a pod is the real test,
    // and the callers wait for theirs.
    if (scheduler.exited) throw new ToolError(`kube-scheduler exited (${scheduler.exited}):\n${logTail(scheduler)}`);

    const startedInMs = Date.now() - began;
    log(`control plane on ${server} in ${(startedInMs / 1000).toFixed(1)} s`);
    return {
      dir,
      kubeconfig,
      server,
      pki,
      nodeNames,
      controllers,
      startedInMs,
      kubectl: (args, o) => kubectl(k, args, o),
      kubectlOk: (args, o) => kubectlOk(k, args, o),
      api,
      startServer: (name, argv, env) => start(name, argv, env),
      logTail: (name, lines) => {
        const s = servers.find((x) => x.name === name);
        return s ? logTail(s, lines) : `(no server named ${name})`;
      },
      servers: () => [...servers],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
