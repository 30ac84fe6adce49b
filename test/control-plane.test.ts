// The ephemeral control plane itself: what it promises whatever the caller does with it (loopback
// only, torn down completely) and how it fails (exit 2 with the fix or the failing log's tail).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { requireBinaries, SETUP_COMMAND, type ControlPlaneBinary } from '../scripts/lib/tools/control-plane/binaries.ts';
import { startControlPlane, ZONES } from '../scripts/lib/tools/control-plane/start.ts';
import { EXIT_USAGE, ToolError } from '../scripts/lib/cli/errors.ts';
import { requireGoVersion } from '../scripts/lib/setup/go.ts';
import { describeWithControlPlane } from './helpers/control-plane.ts';

/** The control-plane servers this test process started and that are still alive. */
function childServers(): string[] {
  const out = execFileSync('ps', ['-o', 'comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim();
  return out.split('\n').filter((c) => /^(etcd|kube-|kwok)/.test(c));
}

describe('a control plane that is not built', () => {
  it('is exit 2 naming what is missing and the set-up command', () => {
    const error = (() => {
      try {
        requireBinaries(['kube-apiserver', 'no-such-binary' as ControlPlaneBinary]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).exitCode).toBe(EXIT_USAGE);
    expect((error as ToolError).message).toContain('no-such-binary');
    expect((error as ToolError).message).toContain(SETUP_COMMAND);
  });
});

describe('the Go that builds it', () => {
  it('is refused before a long build when older than the control plane needs, naming both versions', async () => {
    await expect(requireGoVersion('1.26', 'building the control plane')).resolves.toMatch(/^go1\.(2[6-9]|[3-9]\d)/);
    await expect(requireGoVersion('99.0', 'building the control plane')).rejects.toThrow(/building the control plane needs Go 99\.0 or later; this is go\d/);
  });
});

describeWithControlPlane('the ephemeral control plane', () => {
  it('serves on 127.0.0.1 with fake nodes in three zones, and stop() leaves no server and no directory', async () => {
    const cp = await startControlPlane();
    let dir = '';
    try {
      dir = cp.dir;
      expect(cp.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const nodes = JSON.parse(await cp.kubectlOk(['get', 'nodes', '-o', 'json'])) as { items: Array<{ metadata: { labels: Record<string, string> } }> };
      expect(nodes.items.map((n) => n.metadata.labels['topology.kubernetes.io/zone']).sort()).toEqual([...ZONES]);
      expect(childServers().sort()).toEqual(['etcd', 'kube-apiserver', 'kube-controller', 'kube-scheduler', 'kwok'].sort());
    } finally {
      await cp.stop();
    }
    expect(existsSync(dir)).toBe(false);
    expect(childServers()).toEqual([]);
  }, 120_000);

  it('that does not come up is exit 2 with the tail of the failing component\'s log, and leaves nothing behind', async () => {
    // A 1 ms bound: etcd cannot be healthy yet, so its wait fails the start.
    const error = await startControlPlane({ timeoutMs: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).exitCode).toBe(EXIT_USAGE);
    expect((error as ToolError).message).toMatch(/^the control plane did not come up: waited \d+ s for etcd/);
    expect((error as ToolError).message).toContain("The end of etcd's log:");
    expect(childServers()).toEqual([]);
  }, 60_000);
});
