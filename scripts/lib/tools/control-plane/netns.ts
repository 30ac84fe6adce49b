// A private network namespace for a run whose servers must reach nothing but loopback, even where
// an upstream program binds 0.0.0.0 (Argo CD's application-controller metrics). `unshare --net`
// gives the command a namespace whose only interface is `lo`; `ip link set lo up` brings it up.
// The command is re-run inside it in its own process group, and a Ctrl-C or SIGTERM is passed on, so
// its own clean-up (processes.ts) runs there; nothing outside the namespace can reach what it starts.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { $, which } from 'zx/core';
import { ToolError } from '../../cli/errors.ts';

/** Set in the re-run command: it is inside the namespace already. */
export const NETNS_ENV = 'EMQX_GITOPS_PRIVATE_NETWORK';

export function insidePrivateNetwork(): boolean {
  return process.env[NETNS_ENV] === '1';
}

/** `unshare` needs root for a network namespace; anyone else gets one inside a user namespace. */
function unshareArgs(): string[] {
  return process.geteuid?.() === 0 ? ['--net'] : ['--map-root-user', '--net'];
}

/** Exit 2 with the fix when this machine cannot make a private network namespace. */
export async function requirePrivateNetwork(purpose: string): Promise<void> {
  const unshare = await which('unshare', { nothrow: true });
  const ip = await which('ip', { nothrow: true });
  if (!unshare || !ip) {
    throw new ToolError(`${purpose} runs in a private network namespace, which needs \`unshare\` (util-linux) and \`ip\` (iproute2): ${[!unshare && 'unshare', !ip && 'ip'].filter(Boolean).join(' and ')} not found.\nFix: \`apt-get install util-linux iproute2\` (Debian), then run it again.`);
  }
  const probe = await $({ quiet: true, nothrow: true, timeout: 10_000 })`${unshare} ${unshareArgs()} -- ${ip} link set lo up`;
  if (probe.exitCode !== 0) {
    throw new ToolError(
      `${purpose} runs in a private network namespace, and \`unshare ${unshareArgs().join(' ')}\` failed: ${probe.stderr.trim() || `exit ${probe.exitCode}`}.\n` +
        'Fix: run it as root, or allow unprivileged user namespaces (`sysctl kernel.unprivileged_userns_clone=1` on Debian).',
    );
  }
}

/**
 * Runs `argv` inside a new network namespace with loopback up, passing signals on, and resolves to
 * its exit code. Standard input, output and error are the caller's.
 */
export function runInPrivateNetwork(argv: readonly string[]): Promise<number> {
  const script = 'ip link set lo up && exec "$@"';
  const child = spawn('unshare', [...unshareArgs(), '--', 'sh', '-c', script, 'sh', ...argv], {
    stdio: 'inherit',
    detached: true,
    env: { ...process.env, [NETNS_ENV]: '1' },
  });
  const forward = (signal: NodeJS.Signals) => () => {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    }
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      resolve(code ?? (signal === 'SIGINT' ? 130 : 143));
    });
    child.on('error', () => resolve(2));
  });
}

/** Network interfaces of this process's namespace (`/proc/net/dev`, which is per namespace). */
export function networkInterfaces(): string[] {
  return readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]!.trim())
    .filter(Boolean);
}

export interface ListeningSocket {
  readonly address: string;
  readonly port: number;
}

/** Listening TCP sockets of this namespace, from /proc/net/tcp and tcp6 (state 0A). */
export function listeningSockets(): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const [file, v6] of [['/proc/net/tcp', false], ['/proc/net/tcp6', true]] as const) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue;
      const [hex, portHex] = cols[1]!.split(':') as [string, string];
      out.push({ address: v6 ? ipv6(hex) : ipv4(hex), port: parseInt(portHex, 16) });
    }
  }
  return out;
}

/** /proc/net/tcp writes an IPv4 address as one little-endian 32-bit hex word. */
export function ipv4(hex: string): string {
  const bytes = hex.match(/../g)!.map((b) => parseInt(b, 16));
  return bytes.reverse().join('.');
}

function ipv6(hex: string): string {
  // Four little-endian 32-bit words; enough to tell ::, ::1 and the rest apart.
  const words = hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  const groups = words.join('').match(/.{4}/g)!.map((g) => parseInt(g, 16).toString(16));
  const full = groups.join(':');
  if (/^(0:){7}0$/.test(full)) return '::';
  if (/^(0:){7}1$/.test(full)) return '::1';
  return full;
}
