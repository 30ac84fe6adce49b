// How every wrapper finds its binary (scripts/lib/tools/pinned-binary.ts): the pinned one from
// .tools/bin with the set-up's version, else one on PATH and what it says its version is.
import { existsSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ToolError } from '../scripts/lib/cli/errors.ts';
import { KUBE_SCORE, KUBECONFORM, KUSTOMIZE, type PinnedTool } from '../scripts/lib/setup/tool-versions.ts';
import { findPinnedBinary, pinnedPath } from '../scripts/lib/tools/pinned-binary.ts';
import { TOOLS_BIN } from '../scripts/lib/util/paths.ts';
import { useTempDirs } from './helpers/tmp.ts';

const tempDir = useTempDirs();
const PATH = process.env.PATH;
afterEach(() => {
  process.env.PATH = PATH;
});

/** A tool the set-up never installs, so that only PATH can have it. */
const FAKE: PinnedTool = { name: 'emqx-gitops-fake-tool', module: 'example.com/fake', version: 'v9.9.9', why: 'a test' };

/** `FAKE` on PATH, as a script with this body. */
async function onPath(body: string): Promise<string> {
  const dir = await tempDir();
  const binary = path.join(dir, FAKE.name);
  await writeFile(binary, `#!/bin/sh\n${body}\n`);
  await chmod(binary, 0o755);
  process.env.PATH = `${dir}${path.delimiter}${PATH}`;
  return binary;
}

describe('findPinnedBinary', () => {
  it.each([KUSTOMIZE, KUBECONFORM, KUBE_SCORE])('finds the pinned $name in .tools/bin with the version the set-up stamped', async (tool) => {
    expect(pinnedPath(tool)).toBe(path.join(TOOLS_BIN, tool.name));
    expect(existsSync(pinnedPath(tool)), `${pinnedPath(tool)}: run \`npm run setup\``).toBe(true);
    expect(await findPinnedBinary(tool, { args: ['--no-such-flag'] })).toEqual({ binary: pinnedPath(tool), version: tool.version, source: 'pinned' });
  });

  it('else takes the one on PATH, and reads its version with the parser, or whole', async () => {
    const binary = await onPath('[ "$1" = version ] || exit 2\necho "fake-tool v1.2.3 (commit abc)"');
    expect(await findPinnedBinary(FAKE, { args: ['version'], parse: (s) => /v\d+\.\d+\.\d+/.exec(s)?.[0] })).toEqual({ binary, version: 'v1.2.3', source: 'path' });
    expect(await findPinnedBinary(FAKE, { args: ['version'] })).toEqual({ binary, version: 'fake-tool v1.2.3 (commit abc)', source: 'path' });
    expect(await findPinnedBinary(FAKE, { args: ['version'], parse: () => undefined })).toMatchObject({ version: 'fake-tool v1.2.3 (commit abc)' });
  });

  it('says which binary does not run, with which arguments, and what to do', async () => {
    const binary = await onPath('echo "broken library" >&2\nexit 3');
    const error = await findPinnedBinary(FAKE, { args: ['-v'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).message).toBe(`${binary} does not run (\`${binary} -v\` exited 3): broken library\nFix: run \`npm run setup\` again.`);
  });

  it('finds nothing when neither .tools/bin nor PATH has it', async () => {
    process.env.PATH = await tempDir();
    expect(await findPinnedBinary(FAKE, { args: ['version'] })).toBeUndefined();
  });
});
