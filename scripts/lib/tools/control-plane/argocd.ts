// Argo CD on an ephemeral control plane: the pinned multi-call `argocd` binary run as its three
// syncing components (repo-server, application-controller, applicationset-controller) beside the
// API server, with Debian's redis-server as their cache, as plain processes with the admin
// kubeconfig (what the install manifests add for them in a real cluster is their identity, and the
// admin certificate stands in for it here; no argocd-server: nothing here needs the UI or the API).
//
// Everything binds 127.0.0.1 on kernel-chosen ports, except one listener Argo CD hard-codes: the
// application-controller's metrics server is `0.0.0.0:<--metrics-port>` (controller/appcontroller.go,
// v3.6.1). That is why the e2e runs Argo CD inside a network namespace of its own whose only
// interface is loopback (control-plane/netns.ts): 0.0.0.0 there reaches nothing but 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { ToolError } from '../../cli/errors.ts';
import { displayPath, TOOLS_BIN } from '../../util/paths.ts';
import { toKubectlInput } from '../kubectl.ts';
import { ARGOCD_PATH_DIR, requireRedisServer } from '../../setup/setup-control-plane.ts';
import { ARGOCD_BINARIES, binaryPath, requireBinaries, SETUP_COMMAND } from './binaries.ts';
import { freePorts } from './ports.ts';
import { waitUntil, WaitTimeout, type Server } from './processes.ts';
import type { ControlPlane } from './start.ts';

export const ARGOCD_NAMESPACE = 'argocd';
/** The servers, by the names their logs and failure reports use. */
export const ARGOCD_COMPONENTS = ['redis-server', 'argocd-repo-server', 'argocd-application-controller', 'argocd-applicationset-controller'] as const;

export interface ArgoCdOptions {
  /** Bound on each start-up wait. */
  readonly timeoutMs: number;
  /** Extra flags for the ApplicationSet controller (`--enable-progressive-syncs`). */
  readonly applicationSetArgs?: readonly string[];
}

/** The settings objects the components read; the settings informers select on the part-of label. */
export function argoCdSettings(secretKey: string): unknown[] {
  const labels = { 'app.kubernetes.io/part-of': 'argocd' };
  const configMap = (name: string, data: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ARGOCD_NAMESPACE, labels }, data });
  return [
    configMap('argocd-cm'),
    configMap('argocd-cmd-params-cm'),
    configMap('argocd-rbac-cm'),
    configMap('argocd-ssh-known-hosts-cm'),
    configMap('argocd-tls-certs-cm'),
    configMap('argocd-gpg-keys-cm'),
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'argocd-secret', namespace: ARGOCD_NAMESPACE, labels }, type: 'Opaque', stringData: { 'server.secretkey': secretKey } },
  ];
}

/**
 * Starts Argo CD on `cp` and waits until each component answers. The Argo CD CRDs must already be
 * installed (installPinnedCrds). Returns the servers, which `cp.stop()` stops with the plane.
 */
export async function startArgoCd(cp: ControlPlane, options: ArgoCdOptions): Promise<Server[]> {
  requireBinaries(ARGOCD_BINARIES);
  const redis = await requireRedisServer();
  if (!existsSync(ARGOCD_PATH_DIR)) throw new ToolError(`${displayPath(ARGOCD_PATH_DIR)} is missing (Argo CD's git and gpg wrappers).\nFix: run \`${SETUP_COMMAND}\` once.`);
  const root = path.join(cp.dir, 'argocd');
  const [home, tmp, bin, redisDir] = ['home', 'tmp', 'bin', 'redis'].map((d) => path.join(root, d)) as [string, string, string, string];
  for (const d of [home, tmp, bin, redisDir]) await mkdir(d, { recursive: true });
  // The binary picks its role from its file name; the repo-server runs `kustomize` and `git` from PATH.
  for (const role of ARGOCD_COMPONENTS.slice(1)) await symlink(binaryPath('argocd'), path.join(bin, role));
  await symlink(path.join(TOOLS_BIN, 'kustomize'), path.join(bin, 'kustomize'));

  await cp.kubectlOk(['create', 'namespace', ARGOCD_NAMESPACE]);
  await cp.kubectlOk(['apply', '-f', '-'], { input: toKubectlInput(argoCdSettings(randomBytes(32).toString('base64'))) });

  const [redisPort, repoPort, repoMetrics, controllerMetrics, appsetMetrics, appsetProbe, appsetWebhook] = (await freePorts(7)) as [number, number, number, number, number, number, number];
  const redisAddress = `127.0.0.1:${redisPort}`;
  const repoServer = `127.0.0.1:${repoPort}`;
  // A private HOME and TMPDIR: git and Argo CD write their caches there, never into the user's.
  const env = {
    HOME: home,
    TMPDIR: tmp,
    PATH: [bin, ARGOCD_PATH_DIR, process.env.PATH ?? '/usr/bin:/bin'].join(path.delimiter),
    KUBECONFIG: cp.kubeconfig,
    // Argo CD's own switch: the in-cluster destination (https://kubernetes.default.svc) uses
    // KUBECONFIG instead of the service-account files of a pod.
    ARGOCD_FAKE_IN_CLUSTER: 'true',
    ARGOCD_GPG_ENABLED: 'false',
  };
  const servers: Server[] = [];
  servers.push(cp.startServer('redis-server', [redis, '--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir], env));
  servers.push(
    cp.startServer(
      'argocd-repo-server',
      [path.join(bin, 'argocd-repo-server'), '--address', '127.0.0.1', '--port', String(repoPort), '--metrics-address', '127.0.0.1', '--metrics-port', String(repoMetrics), '--disable-tls', '--client-ca-path', '', '--redis', redisAddress, '--loglevel', 'info'],
      env,
    ),
  );
  servers.push(
    cp.startServer(
      'argocd-application-controller',
      [
        path.join(bin, 'argocd-application-controller'),
        '--kubeconfig', cp.kubeconfig,
        '--namespace', ARGOCD_NAMESPACE,
        '--redis', redisAddress,
        '--repo-server', repoServer,
        '--repo-server-plaintext',
        '--metrics-port', String(controllerMetrics),
        // A refresh is requested after every push (the refresh annotation); this bounds the rest.
        '--app-resync', '30',
        '--loglevel', 'info',
      ],
      env,
    ),
  );
  servers.push(
    cp.startServer(
      'argocd-applicationset-controller',
      [
        path.join(bin, 'argocd-applicationset-controller'),
        '--kubeconfig', cp.kubeconfig,
        '--namespace', ARGOCD_NAMESPACE,
        '--argocd-repo-server', repoServer,
        '--repo-server-plaintext',
        '--metrics-addr', `127.0.0.1:${appsetMetrics}`,
        '--probe-addr', `127.0.0.1:${appsetProbe}`,
        '--webhook-addr', `127.0.0.1:${appsetWebhook}`,
        '--loglevel', 'info',
        ...(options.applicationSetArgs ?? []),
      ],
      env,
    ),
  );

  const [redisServer, repo, controller, appset] = servers as [Server, Server, Server, Server];
  await ready(cp, redisServer, options.timeoutMs, () => tcpOpen(redisPort));
  await ready(cp, repo, options.timeoutMs, () => httpOk(`http://127.0.0.1:${repoMetrics}/metrics`));
  await ready(cp, controller, options.timeoutMs, () => httpOk(`http://127.0.0.1:${controllerMetrics}/metrics`));
  // It registers no health checks (every probe path answers 404): its metrics server answers once the manager runs.
  await ready(cp, appset, options.timeoutMs, () => httpOk(`http://127.0.0.1:${appsetMetrics}/metrics`));
  return servers;
}

async function ready(cp: ControlPlane, server: Server, timeoutMs: number, probe: () => Promise<true | string>): Promise<void> {
  try {
    await waitUntil(`${server.name} to answer`, timeoutMs, probe, 250, () => (server.exited !== undefined ? `${server.name} exited (${server.exited})` : undefined));
  } catch (error) {
    if (error instanceof WaitTimeout) throw new ToolError(`Argo CD did not come up: ${error.message}\nThe end of ${server.name}'s log:\n${cp.logTail(server.name)}`);
    throw error;
  }
}

async function httpOk(url: string): Promise<true | string> {
  const res = await fetch(url).catch(() => undefined);
  return res?.ok ? true : `HTTP ${res?.status ?? 'no answer'} from ${url}`;
}

function tcpOpen(port: number): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', (e) => resolve(`127.0.0.1:${port}: ${e.message}`));
  });
}
