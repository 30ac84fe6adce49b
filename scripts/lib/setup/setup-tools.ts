import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $, which } from 'zx/core';
import { ToolError } from '../cli/errors.ts';
import type { PinnedTool } from './tool-versions.ts';

export type InstallOutcome = 'present' | 'installed' | 'no-go';

/** The stamp beside a binary records the version it was built from, so a bump reinstalls. */
export function stampFile(bin: string, tool: PinnedTool): string {
  return path.join(bin, `.${tool.name}.version`);
}

export async function isInstalled(bin: string, tool: PinnedTool): Promise<boolean> {
  const stamp = stampFile(bin, tool);
  if (!existsSync(path.join(bin, tool.name)) || !existsSync(stamp)) return false;
  return (await readFile(stamp, 'utf8')).trim() === `${tool.module}@${tool.version}`;
}

/**
 * `go install module@version` into `bin`. Once installed, nothing here touches the network again:
 * every later command runs offline.
 */
export async function installPinnedTool(bin: string, tool: PinnedTool): Promise<InstallOutcome> {
  if (await isInstalled(bin, tool)) return 'present';
  const go = await which('go', { nothrow: true });
  if (!go) return 'no-go';
  await mkdir(bin, { recursive: true });
  const out = await $({ quiet: true, nothrow: true, env: { ...process.env, GOBIN: bin, GOFLAGS: '-mod=mod' } })`${go} install ${`${tool.module}@${tool.version}`}`;
  if (out.exitCode !== 0) {
    throw new ToolError(
      `go install ${tool.module}@${tool.version} failed (exit ${out.exitCode}):\n${out.stderr.trim()}\n` +
        'Fix: the set-up needs the Go module proxy (or GOPROXY pointing at a mirror) once; after that it works offline. ' +
        'Then run `npm run setup` again.',
    );
  }
  await writeFile(stampFile(bin, tool), `${tool.module}@${tool.version}\n`);
  return 'installed';
}
