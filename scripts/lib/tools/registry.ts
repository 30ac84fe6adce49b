// The one wrapper around distribution's `registry serve`: a real OCI registry on a free 127.0.0.1
// port, plain HTTP, its blobs in a folder, for the publish tests and the Flux OCI e2e. Started with
// a generated config, ready once GET /v2/ answers (bounded), always stopped by its handle. With
// `tls`, HTTPS instead, for the --ca-file path.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ToolError } from '../cli/errors.ts';
import { REGISTRY } from '../setup/tool-versions.ts';
import { pinnedPath } from './pinned-binary.ts';
import { freePort } from './control-plane/ports.ts';

export interface RegistryOptions {
  /** Where the blobs and manifests live; kept after stop (default: a temporary folder, removed on stop). */
  readonly storage?: string;
  /** `storage.maintenance.readonly.enabled`: reads work, every push is refused. */
  readonly readOnly?: boolean;
  /** Serve HTTPS with this certificate and key (PEM files) instead of plain HTTP; `ca` is what signed it, for the readiness check. */
  readonly tls?: { readonly certificate: string; readonly key: string; readonly ca: string };
  /** How long to wait for GET /v2/ (default 15 s). */
  readonly readyTimeoutMs?: number;
}

export interface RunningRegistry {
  /** `127.0.0.1:PORT`, what oras and Flux's `oci://` URLs take. */
  readonly host: string;
  readonly storage: string;
  /** The last lines the registry logged, for a failure message. */
  readonly log: () => string;
  readonly stop: () => Promise<void>;
}

export function registryBinary(): string {
  return pinnedPath(REGISTRY);
}

/** The registry's config.yml (YAML is a superset of JSON). */
export function registryConfig(storage: string, port: number, readOnly: boolean, tls?: { certificate: string; key: string }): string {
  const config = {
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: storage },
      // Without it a freshly started registry may sweep upload folders in the background.
      maintenance: { uploadpurging: { enabled: false }, readonly: { enabled: readOnly } },
    },
    http: { addr: `127.0.0.1:${port}`, ...(tls ? { tls: { certificate: tls.certificate, key: tls.key } } : {}) },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<RunningRegistry> {
  const binary = registryBinary();
  if (!existsSync(binary)) {
    throw new ToolError(`the OCI registry is not built: ${binary} is missing.\nFix: run \`npm run setup -- --control-plane\` (it installs ${REGISTRY.module}@${REGISTRY.version} with Go).`);
  }
  const work = await mkdtemp(path.join(os.tmpdir(), 'emqx-registry-'));
  const storage = options.storage ?? path.join(work, 'storage');
  await mkdir(storage, { recursive: true });
  const port = await freePort();
  const configFile = path.join(work, 'config.yml');
  await writeFile(configFile, registryConfig(storage, port, options.readOnly ?? false, options.tls));
  const lines: string[] = [];
  const child = spawn(binary, ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopChild(child, exited);
    await rm(work, { recursive: true, force: true });
  };
  const host = `127.0.0.1:${port}`;
  try {
    await waitUntilServing(host, child, options.readyTimeoutMs ?? 15_000, options.tls?.ca);
  } catch (error) {
    await stop();
    throw new ToolError(`${binary} serve did not answer on ${options.tls ? 'https' : 'http'}://${host}/v2/: ${error instanceof Error ? error.message : String(error)}\n${lines.slice(-10).join('\n')}`);
  }
  return { host, storage, log: () => lines.join('\n'), stop };
}

/** SIGTERM, then SIGKILL after 5 s: the registry never outlives its handle. */
async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5_000).unref());
  if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

async function waitUntilServing(host: string, child: ChildProcess, timeoutMs: number, ca?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`it exited ${child.exitCode}`);
    if ((await getStatus(`${ca ? 'https' : 'http'}://${host}/v2/`, 1_000, ca)) === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no answer in ${timeoutMs / 1000} s`);
}

/** The HTTP status of a GET (https:// trusting the CA file `ca`), or 0 when nothing answered in time. */
export function getStatus(url: string, timeoutMs: number, ca?: string): Promise<number> {
  return new Promise((resolve) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { timeout: timeoutMs, ...(ca ? { ca: readFileSync(ca) } : {}) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}
