// Tests that push to a real OCI registry (distribution's, built by `npm run setup -- --control-plane`)
// run whenever .tools/bin/registry is there. Without it they are skipped, and test/global-setup.ts
// ends the run with one line saying so; under CI=true a missing registry fails instead.
import { existsSync } from 'node:fs';
import http from 'node:http';
import { describe, it } from 'vitest';
import { registryBinary } from '../../scripts/lib/tools/registry.ts';

export const REGISTRY_SETUP = 'npm run setup -- --control-plane';

export function describeWithRegistry(name: string, body: () => void): void {
  if (existsSync(registryBinary())) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has the registry it needs', () => {
        throw new Error(`${registryBinary()} not built; CI must run \`${REGISTRY_SETUP}\` before the tests`);
      });
    });
    return;
  }
  describe.skip(name, body);
}

export interface RegistryAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One GET against the registry's HTTP API (`/v2/...`), bounded by 10 s. */
export function registryGet(host: string, pathname: string, accept = 'application/vnd.oci.image.manifest.v1+json'): Promise<RegistryAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get(`http://${host}${pathname}`, { headers: { Accept: accept }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${pathname}: no answer in 10 s`)));
    req.on('error', reject);
  });
}

/** The digest a tag points at (the registry's Docker-Content-Digest), or undefined when there is no such tag. */
export async function tagDigest(host: string, repository: string, tag: string): Promise<string | undefined> {
  const answer = await registryGet(host, `/v2/${repository}/manifests/${tag}`);
  return answer.status === 200 ? String(answer.headers['docker-content-digest']) : undefined;
}

export async function tagsOf(host: string, repository: string): Promise<string[]> {
  const answer = await registryGet(host, `/v2/${repository}/tags/list`, 'application/json');
  if (answer.status === 404) return [];
  return ((JSON.parse(answer.body.toString('utf8')) as { tags?: string[] | null }).tags ?? []).sort();
}

export interface RefusingProxy {
  readonly host: string;
  readonly stop: () => Promise<void>;
}

/**
 * A 127.0.0.1 proxy in front of `target` that answers 403 (DENIED, as a registry's authorisation
 * does) to the requests `refuse` picks and forwards the rest unchanged, Host header included, so
 * the registry's upload URLs point back at the proxy. For a push that fails half-way through.
 */
export async function startRefusingProxy(target: string, refuse: (method: string, pathname: string) => boolean): Promise<RefusingProxy> {
  const [targetHost, targetPort] = target.split(':');
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://proxy').pathname;
    if (refuse(req.method ?? 'GET', pathname)) {
      req.resume();
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }));
      return;
    }
    const upstream = http.request({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers, timeout: 30_000 }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('timeout', () => upstream.destroy(new Error('registry timed out')));
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(e.message);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
