import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';

/** A fresh temporary directory, removed after the test. */
export function useTempDirs(): () => Promise<string> {
  return tempDirsRemovedBy(afterEach);
}

/**
 * A temporary directory that lives until the end of the describe block (or file) it is created in:
 * for a fixture that a beforeAll builds once and several tests read, such as one command run
 * whose output they each check.
 */
export function useSuiteTempDirs(): () => Promise<string> {
  return tempDirsRemovedBy(afterAll);
}

function tempDirsRemovedBy(hook: typeof afterEach | typeof afterAll): () => Promise<string> {
  const dirs: string[] = [];
  hook(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'emqx-gitops-test-'));
    dirs.push(dir);
    return dir;
  };
}
