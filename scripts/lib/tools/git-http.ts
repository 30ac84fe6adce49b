// The one wrapper around `git http-backend`: git's smart HTTP protocol, served read-only on a free
// 127.0.0.1 port by a small node:http server that runs the backend as a CGI program per request.
// Flux's source-controller accepts only http(s) and ssh URLs, so this is how a local bare repository
// becomes something a GitRepository can point at. Pushes go to the bare repository through the file
// system; receive-pack is switched off here, so nothing reachable over the network can write.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { $ } from 'zx/core';
import { ToolError } from '../cli/errors.ts';

export interface GitHttpServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** The clone URL of `<projectRoot>/<name>`. */
  readonly urlOf: (name: string) => string;
  /** Requests served so far, newest last (method, path, status), for a failure message. */
  readonly requests: readonly string[];
  readonly stop: () => Promise<void>;
}

/** Requests larger than this are refused: an e2e fetch of this repository is a few hundred kB. */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

export async function serveGitOverHttp(projectRoot: string): Promise<GitHttpServer> {
  const gitExecPath = (await $({ quiet: true, nothrow: true })`git --exec-path`).stdout.trim();
  if (!gitExecPath) throw new ToolError('git is needed to serve the test repository and is not on PATH.\nFix: install git.');
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`git http-backend failed: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(', ') : (v ?? '');
    };
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: projectRoot,
      // Every repository under the root is served; the root holds only the test's bare clone.
      GIT_HTTP_EXPORT_ALL: '1',
      // Read-only whatever the repository's config says (with REMOTE_USER set, git would allow pushes).
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.receivepack',
      GIT_CONFIG_VALUE_0: 'false',
      GIT_CONFIG_NOSYSTEM: '1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: header('content-type'),
      CONTENT_LENGTH: String(body.length),
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      HTTP_CONTENT_ENCODING: header('content-encoding'),
      // Protocol v2, when the client asks for it.
      GIT_PROTOCOL: header('git-protocol'),
    };
    const out = await runCgi(`${gitExecPath}/git-http-backend`, env, body);
    const { status, headers, payload } = parseCgiResponse(out.stdout);
    requests.push(`${req.method} ${url.pathname}${url.search} -> ${status}`);
    if (requests.length > 50) requests.shift();
    if (out.exitCode !== 0 && out.stdout.length === 0) {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`git http-backend exited ${out.exitCode}: ${out.stderr.trim()}\n`);
      return;
    }
    res.writeHead(status, headers);
    res.end(payload);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  let stopped = false;
  return {
    origin,
    urlOf: (name) => `${origin}/${name}`,
    requests,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * One CGI run. node:child_process rather than zx here: the pack data in and out is binary, and zx
 * runs through a shell and hands output back as text.
 */
function runCgi(program: string, env: Record<string, string>, input: Buffer): Promise<{ exitCode: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) req.destroy(new Error(`request body over ${MAX_REQUEST_BYTES} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A CGI response: header lines, a blank line, the body; `Status:` sets the HTTP status. */
export function parseCgiResponse(raw: Buffer): { status: number; headers: Record<string, string>; payload: Buffer } {
  let end = raw.indexOf('\r\n\r\n');
  let sep = 4;
  const lf = raw.indexOf('\n\n');
  if (end < 0 || (lf >= 0 && lf < end)) {
    end = lf;
    sep = 2;
  }
  if (end < 0) return { status: 502, headers: { 'Content-Type': 'text/plain' }, payload: Buffer.from('malformed CGI response from git http-backend\n') };
  const headers: Record<string, string> = {};
  let status = 200;
  for (const line of raw.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers, payload: raw.subarray(end + sep) };
}
