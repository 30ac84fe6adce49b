// `npm run diff -- --server` end to end: a temporary git repository, the real command, the real
// kustomize and a real control plane. The server's warning stands beside the static one, and a
// diff with nothing changed starts no control plane at all.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SERVER_SAID } from '../scripts/lib/diff/server.ts';
import type { DiffReport } from '../scripts/lib/diff/types.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { commandLine } from './helpers/run.ts';
import { describeWithControlPlane } from './helpers/control-plane.ts';

const repo = mkdtempSync(path.join(os.tmpdir(), 'diff-server-'));
const sh = $({ cwd: repo, quiet: true });
const DIFF = commandLine('diff.ts');
const git = ['-c', 'user.name=t', '-c', 'user.email=t@example.com'];

function write(rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
  writeFileSync(path.join(repo, rel), text);
}

const overlay = (extra = '') =>
  'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: emqx-pvc\nresources:\n  - ../../base\ncomponents:\n  - ../../components/persistence\n' + extra;

const diff = (args: string[]) => $({ cwd: repo, quiet: true, nothrow: true })`${DIFF} ${args}`;

beforeAll(async () => {
  cpSync(path.join(REPO_ROOT, 'base'), path.join(repo, 'base'), { recursive: true });
  cpSync(path.join(REPO_ROOT, 'components', 'persistence'), path.join(repo, 'components', 'persistence'), { recursive: true });
  write('overlays/pvc/kustomization.yaml', overlay());
  await sh`git init -q -b main`;
  await sh`git ${git} add -A`;
  await sh`git ${git} commit -q -m base`;
});

afterAll(() => rmSync(repo, { recursive: true, force: true }));

describeWithControlPlane('npm run diff -- --server', () => {
  it('starts no control plane when nothing changed', async () => {
    const out = await diff(['--base', 'HEAD', '--server', '--format', 'json']);
    expect(out.exitCode).toBe(0);
    expect((JSON.parse(out.stdout) as DiffReport).overlays.map((o) => [o.name, o.status, o.warnings.length])).toEqual([['pvc', 'unchanged', 0]]);
    expect(out.stderr).not.toContain('control plane');
  });

  it("adds the API server's own refusal beside the static warning, naming the object", async () => {
    write(
      'overlays/pvc/kustomization.yaml',
      overlay('patches:\n  - target: {kind: StatefulSet, name: emqx}\n    patch: |-\n      - op: replace\n        path: /spec/volumeClaimTemplates/0/spec/resources/requests/storage\n        value: 20Gi\n'),
    );
    const out = await diff(['--base', 'HEAD', '--server', '--format', 'json']);
    expect(out.exitCode, out.stderr).toBe(0);
    const [pvc] = (JSON.parse(out.stdout) as DiffReport).overlays;
    expect(pvc!.warnings.map((w) => [w.rule, w.object])).toEqual([
      ['immutable-field', 'StatefulSet emqx-pvc/emqx'],
      ['server-rejected', 'StatefulSet emqx-pvc/emqx'],
    ]);
    const server = pvc!.warnings[1]!;
    expect(server.message).toMatch(new RegExp(`^${SERVER_SAID} The StatefulSet "emqx" is invalid: spec.volumeClaimTemplates: Invalid value: .*: field is immutable$`));
    expect(server.remedy).toContain('kubectl delete statefulset emqx -n emqx-pvc --cascade=orphan');
    const port = Number(/diff --server: control plane: control plane on https:\/\/127\.0\.0\.1:(\d+) in [\d.]+ s/.exec(out.stderr)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(out.stderr).toMatch(/diff --server: pvc: checked on the API server in [\d.]+ s/);
    // Torn down when the command ends: nothing listens on its API server's port any more.
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve('connected'));
      socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(answer).toBe('ECONNREFUSED');
  }, 120_000);
});
