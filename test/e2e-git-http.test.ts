// The pieces of the e2e that need no cluster: the git server (a real `git clone` over smart HTTP,
// pushes refused), the snapshot of the working tree, and the readers of Flux's and the API server's
// answers.
import { writeFile, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx/core';
import { describe, expect, it } from 'vitest';
import { commitOf } from '../scripts/lib/e2e/flux/controllers.ts';
import { describeEntry, shortenInvalidValue } from '../scripts/lib/e2e/format.ts';
import { inventoryPath } from '../scripts/lib/e2e/cluster.ts';
import { BARE_NAME, createTestRepository } from '../scripts/lib/e2e/repository.ts';
import { parseCgiResponse, serveGitOverHttp } from '../scripts/lib/tools/git-http.ts';
import { useTempDirs } from './helpers/tmp.ts';

const git = $({ quiet: true, nothrow: true, env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t.invalid' } });

describe('e2e test repository and git server', () => {
  const tempDir = useTempDirs();

  it('snapshots the working tree with uncommitted, untracked and deleted files, and serves it read-only over HTTP', async () => {
    const source = await tempDir();
    await git({ cwd: source })`git init -q -b trunk`;
    await writeFile(path.join(source, 'kept.txt'), 'committed\n');
    await writeFile(path.join(source, 'gone.txt'), 'committed, then deleted\n');
    await writeFile(path.join(source, '.gitignore'), 'ignored.txt\n');
    await git({ cwd: source })`git add -A`;
    await git({ cwd: source })`git commit -q -m first`;
    await writeFile(path.join(source, 'kept.txt'), 'edited, not committed\n');
    await rm(path.join(source, 'gone.txt'));
    await mkdir(path.join(source, 'new'));
    await writeFile(path.join(source, 'new', 'untracked.txt'), 'untracked\n');
    await writeFile(path.join(source, 'ignored.txt'), 'ignored\n');

    const dir = await tempDir();
    const repo = await createTestRepository(source, dir);
    const snapshot = await repo.commit('snapshot');
    await repo.push();
    const server = await serveGitOverHttp(repo.projectRoot);
    try {
      expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const clone = path.join(dir, 'clone');
      const cloned = await git`git clone -q ${server.urlOf(BARE_NAME)} ${clone}`;
      expect(cloned.exitCode, cloned.stderr).toBe(0);
      expect((await git({ cwd: clone })`git rev-parse HEAD`).stdout.trim()).toBe(snapshot);
      expect((await git({ cwd: clone })`git rev-parse --abbrev-ref HEAD`).stdout.trim()).toBe('main');
      expect(await readFile(path.join(clone, 'kept.txt'), 'utf8')).toBe('edited, not committed\n');
      expect(await readFile(path.join(clone, 'new', 'untracked.txt'), 'utf8')).toBe('untracked\n');
      const files = (await git({ cwd: clone })`git ls-files`).stdout.split('\n').filter(Boolean).sort();
      expect(files).toEqual(['.gitignore', 'kept.txt', 'new/untracked.txt']);
      // The history came along: the snapshot's parent is the source's commit.
      expect((await git({ cwd: clone })`git log --format=%s`).stdout.trim().split('\n')).toEqual(['snapshot', 'first']);
      expect(server.requests.some((r) => r.startsWith('POST /emqx-gitops.git/git-upload-pack -> 200'))).toBe(true);

      // Nothing reachable over the network writes.
      await writeFile(path.join(clone, 'kept.txt'), 'pushed over HTTP\n');
      await git({ cwd: clone })`git commit -qam push`;
      const pushed = await git({ cwd: clone })`git push origin HEAD:refs/heads/main`;
      expect(pushed.exitCode).not.toBe(0);
      expect(pushed.stderr).toMatch(/403/);
      expect((await git({ cwd: repo.bare })`git rev-parse main`).stdout.trim()).toBe(snapshot);
    } finally {
      await server.stop();
    }
    // The source repository was not touched: same commit, same uncommitted edit.
    expect((await git({ cwd: source })`git log --format=%s`).stdout.trim()).toBe('first');
    expect((await git({ cwd: source })`git status --porcelain`).stdout).toContain(' M kept.txt');
  });

  it('refuses an edit that changes nothing, naming the file', async () => {
    const source = await tempDir();
    await git({ cwd: source })`git init -q`;
    await writeFile(path.join(source, 'a.env'), 'x=1\n');
    await git({ cwd: source })`git add -A`;
    await git({ cwd: source })`git commit -q -m first`;
    const repo = await createTestRepository(source, await tempDir());
    await expect(repo.edit('a.env', (t) => t.replace('y=2', 'y=3'))).rejects.toThrow(/a\.env changed nothing/);
    await expect(repo.edit('missing.env', (t) => t)).rejects.toThrow(/missing\.env, which the repository no longer has/);
  });
});

describe('e2e readers', () => {
  it('parses a CGI response: Status sets the code, the rest are headers, the body stays binary', () => {
    const body = Buffer.from([0, 1, 2, 255]);
    const r = parseCgiResponse(Buffer.concat([Buffer.from('Status: 403 Forbidden\r\nContent-Type: text/plain\r\n\r\n'), body]));
    expect(r.status).toBe(403);
    expect(r.headers).toEqual({ 'Content-Type': 'text/plain' });
    expect(r.payload.equals(body)).toBe(true);
    expect(parseCgiResponse(Buffer.from('Content-Type: x\n\nok')).status).toBe(200);
    expect(parseCgiResponse(Buffer.from('no header end')).status).toBe(502);
  });

  it('reads the commit of a Flux revision', () => {
    const sha = 'a'.repeat(40);
    expect(commitOf(`main@sha1:${sha}`)).toBe(sha);
    expect(commitOf(`sha1:${sha}`)).toBe(sha);
    expect(commitOf(undefined)).toBeUndefined();
  });

  it('turns inventory entries into API paths and names', () => {
    expect(inventoryPath('emqx-x_emqx_apps_StatefulSet')).toBe('/apis/apps/v1/namespaces/emqx-x/statefulsets/emqx');
    expect(inventoryPath('emqx-x_emqx-env-abc__ConfigMap')).toBe('/api/v1/namespaces/emqx-x/configmaps/emqx-env-abc');
    expect(inventoryPath('_emqx-x__Namespace')).toBe('/api/v1/namespaces/emqx-x');
    expect(inventoryPath('emqx-x_emqx_example.com_Widget')).toBeUndefined();
    expect(describeEntry('emqx-x_emqx_apps_StatefulSet')).toBe('StatefulSet emqx-x/emqx');
  });

  it('shortens the rejected value the API server quotes, keeping the field and the verdict', () => {
    const m = 'StatefulSet/ns/emqx dry-run failed (Invalid): StatefulSet.apps "emqx" is invalid: spec.volumeClaimTemplates: Invalid value: [{"name":"emqx-data","Spec":{}}]: field is immutable';
    expect(shortenInvalidValue(m)).toBe('StatefulSet/ns/emqx dry-run failed (Invalid): StatefulSet.apps "emqx" is invalid: spec.volumeClaimTemplates: Invalid value: [...]: field is immutable');
  });
});
