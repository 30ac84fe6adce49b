// How every wrapper finds its binary: the one the set-up pinned and installed in .tools/bin, else
// the one on PATH, and then its version, so that a caller can say when it is not the pinned one.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { $, which } from 'zx/core';
import { ToolError } from '../cli/errors.ts';
import { isInstalled } from '../setup/setup-tools.ts';
import type { PinnedTool } from '../setup/tool-versions.ts';
import { TOOLS_BIN } from '../util/paths.ts';

export interface FoundBinary {
  readonly binary: string;
  /** The pinned version when the set-up's stamp says so, else what the binary prints. */
  readonly version: string;
  readonly source: 'pinned' | 'path';
}

export interface VersionQuery {
  /** What makes the binary print its version: `['version']`, `['-v']`. */
  readonly args: readonly string[];
  /** The version in what it printed; the whole output (trimmed) when this finds none. */
  readonly parse?: (stdout: string) => string | undefined;
}

/** Where the set-up installs `tool`. */
export function pinnedPath(tool: PinnedTool): string {
  return path.join(TOOLS_BIN, tool.name);
}

/**
 * The pinned `tool` in .tools/bin, else `tool.name` on PATH, else `undefined`. The set-up's stamp
 * gives the pinned binary's version: asking it costs a process start, and a `go install` build
 * reports `development`.
 */
export async function findPinnedBinary(tool: PinnedTool, version: VersionQuery): Promise<FoundBinary | undefined> {
  const pinned = pinnedPath(tool);
  if (existsSync(pinned)) {
    return { binary: pinned, version: (await isInstalled(TOOLS_BIN, tool)) ? tool.version : await versionOf(pinned, version), source: 'pinned' };
  }
  const onPath = await which(tool.name, { nothrow: true });
  return onPath ? { binary: onPath, version: await versionOf(onPath, version), source: 'path' } : undefined;
}

async function versionOf(binary: string, { args, parse }: VersionQuery): Promise<string> {
  const argv = [binary, ...args];
  const out = await $({ quiet: true, nothrow: true })`${argv}`;
  if (out.exitCode !== 0) {
    throw new ToolError(`${binary} does not run (\`${argv.join(' ')}\` exited ${out.exitCode}): ${out.stderr.trim()}\nFix: run \`npm run setup\` again.`);
  }
  return parse?.(out.stdout) ?? out.stdout.trim();
}
