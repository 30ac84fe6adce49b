// The long-running servers of an ephemeral control plane. Each runs in its own process group with
// its output in a log file, so that a failure can show the tail of the failing component's log, and
// so that stopping a group stops whatever the server forked. Every group is also killed when this
// process exits or is interrupted, whatever the caller did, so no server outlives the command.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';

export interface Server {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Set once the process has exited, with what it exited with. */
  exited?: string;
}

const live = new Set<Server>();
const tempDirs = new Set<string>();
let hooked = false;

function killGroup(server: Server, signal: NodeJS.Signals): void {
  if (server.exited !== undefined || server.child.pid === undefined) return;
  try {
    process.kill(-server.child.pid, signal);
  } catch {
    // already gone
  }
}

/** Last resort, synchronous: the process is going away and cannot wait for a graceful stop. */
function killEverything(): void {
  for (const server of live) killGroup(server, 'SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killEverything);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (live.size > 0 || tempDirs.size > 0) process.stderr.write(`\n${signal}: stopping the control plane\n`);
      killEverything();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** A temporary directory removed at exit if nobody removed it before (see `forgetTempDir`). */
export function registerTempDir(dir: string): void {
  hookExit();
  tempDirs.add(dir);
}

export function forgetTempDir(dir: string): void {
  tempDirs.delete(dir);
}

export function startServer(name: string, argv: readonly string[], logFile: string, env: Readonly<Record<string, string>> = {}): Server {
  hookExit();
  const [command, ...args] = argv;
  if (!command) throw new Error(`no command for ${name}`);
  const out = openSync(logFile, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env: { ...process.env, ...env } });
  closeSync(out);
  const server: Server = { name, child, logFile };
  live.add(server);
  child.on('exit', (code, signal) => {
    server.exited = signal ? `signal ${signal}` : `exit code ${code}`;
    live.delete(server);
  });
  child.on('error', (error) => {
    server.exited = error.message;
    live.delete(server);
  });
  return server;
}

/** The last lines of a server's log, for an error message. */
export function logTail(server: Server, lines = 20): string {
  try {
    return readFileSync(server.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopServer(server: Server, graceMs = 5_000): Promise<void> {
  if (server.exited !== undefined) return;
  const gone = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  killGroup(server, 'SIGTERM');
  const timer = setTimeout(() => killGroup(server, 'SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
  // Children of the server in the same group (none expected) go too.
  killGroup(server, 'SIGKILL');
}

export class WaitTimeout extends Error {
  constructor(
    readonly what: string,
    readonly waitedMs: number,
    readonly last: string,
  ) {
    super(`waited ${(waitedMs / 1000).toFixed(0)} s for ${what}${last ? `; last seen: ${last}` : ''}`);
    this.name = 'WaitTimeout';
  }
}

/**
 * Polls `probe` until it returns true, for at most `timeoutMs`. `probe` may return a string: the
 * state it saw, quoted if the wait times out. Returns the time it waited.
 */
export async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<true | string>, intervalMs = 250, failFast?: () => string | undefined): Promise<number> {
  const started = Date.now();
  let last = '';
  for (;;) {
    const broken = failFast?.();
    if (broken) throw new WaitTimeout(what, Date.now() - started, broken);
    try {
      const seen = await probe();
      if (seen === true) return Date.now() - started;
      last = seen;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() - started >= timeoutMs) throw new WaitTimeout(what, Date.now() - started, last);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
