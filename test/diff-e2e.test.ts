// End to end: a temporary git repository with two commits, the real command, the real kustomize,
// and the markdown a reviewer reads.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_USAGE } from '../scripts/lib/cli/errors.ts';
import { formatJson } from '../scripts/lib/diff/format-json.ts';
import { runDiff, type RunDiffOptions } from '../scripts/lib/diff/run.ts';
import { withWorktree } from '../scripts/lib/tools/git.ts';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import { assertWritable } from '../scripts/lib/util/atomic-write.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { commandLine } from './helpers/run.ts';
import { asCommandError } from './helpers/user-error.ts';

const repo = mkdtempSync(path.join(os.tmpdir(), 'diff-e2e-'));
const sh = $({ cwd: repo, quiet: true });
const DIFF = commandLine('diff.ts');

function write(rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
  writeFileSync(path.join(repo, rel), text);
}

const overlay = (name: string, extra = '') =>
  `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: emqx-${name}\nresources:\n  - ../../base\n${extra}`;

async function diff(args: string[]) {
  return $({ cwd: repo, quiet: true, nothrow: true })`${DIFF} ${args}`;
}

// The command runs once per outcome it promises: a markdown report written to --out (exit 0),
// --exit-code with changes (1) and without (0), a usage error (2). Other inputs call runDiff and
// assertWritable, as scripts/diff.ts does with them.
async function diffReport(options: Omit<RunDiffOptions, 'cwd' | 'kustomize' | 'overlayArgs'>) {
  return runDiff({ cwd: repo, overlayArgs: [], kustomize: await findKustomize(), ...options });
}

beforeAll(async () => {
  // The repository's own base and persistence component: what a real pull request changes.
  cpSync(path.join(REPO_ROOT, 'base'), path.join(repo, 'base'), { recursive: true });
  cpSync(path.join(REPO_ROOT, 'components', 'persistence'), path.join(repo, 'components', 'persistence'), { recursive: true });
  write('.gitignore', 'diff-output/\n');
  write('overlays/pvc/kustomization.yaml', overlay('pvc', 'components:\n  - ../../components/persistence\n'));
  write('overlays/quiet/kustomization.yaml', overlay('quiet'));
  write('overlays/retired/kustomization.yaml', overlay('retired'));
  write('overlays/quiet-extra/kustomization.yaml', overlay('quiet-extra'));
  await sh`git init -q -b main`;
  await sh`git -c user.name=t -c user.email=t@example.com add -A`;
  await sh`git -c user.name=t -c user.email=t@example.com commit -q -m base`;
  // The pull request: a new cluster suffix and a bigger claim in `pvc`, one overlay removed, one added.
  write(
    'overlays/pvc/kustomization.yaml',
    overlay(
      'pvc',
      'components:\n  - ../../components/persistence\nconfigMapGenerator:\n  - name: emqx-env\n    behavior: merge\n    literals:\n      - EMQX_CLUSTER__K8S__SUFFIX=svc.example.org\n' +
        'patches:\n  - target: {kind: StatefulSet, name: emqx}\n    patch: |-\n      - op: replace\n        path: /spec/volumeClaimTemplates/0/spec/resources/requests/storage\n        value: 20Gi\n',
    ),
  );
  rmSync(path.join(repo, 'overlays/retired'), { recursive: true });
  write('overlays/fresh/kustomization.yaml', overlay('fresh'));
  await sh`git -c user.name=t -c user.email=t@example.com add -A`;
  await sh`git -c user.name=t -c user.email=t@example.com commit -q -m change`;
});

afterAll(() => rmSync(repo, { recursive: true, force: true }));

describe('npm run diff between two commits', () => {
  let markdown = '';
  let exitCode: number | null = null;

  beforeAll(async () => {
    const out = await diff(['--base', 'HEAD~1', '--head', 'HEAD', '--format', 'markdown', '--out', 'diff-output/full.md']);
    markdown = out.stdout;
    exitCode = out.exitCode;
    if (exitCode !== 0) throw new Error(out.stderr);
  });

  it('exits 0 with changes, and leaves no worktree behind', async () => {
    expect(exitCode).toBe(0);
    const worktrees = (await sh`git worktree list --porcelain`).stdout.match(/^worktree /gm) ?? [];
    expect(worktrees).toHaveLength(1);
    expect((await sh`git status --porcelain`).stdout).toBe('');
  });

  it('summarises every overlay: added, removed, changed and unchanged without rendering', () => {
    expect(markdown.startsWith('<!-- emqx-gitops:pr-diff -->')).toBe(true);
    expect(markdown).toContain('| fresh | new overlay | 9 | 0 | 0 | 0 |');
    // The deleted directory: what is pruned (target-removed), and the StatefulSet's data (data-removed).
    expect(markdown).toMatch(/\| retired \| overlay removed \| 0 \| 9 \| 0 \| ⚠️ 2 \|/);
    expect(markdown).toContain('| quiet | unchanged (inputs not modified) | 0 | 0 | 0 | 0 |');
    expect(markdown).toContain('| quiet-extra | unchanged (inputs not modified) | 0 | 0 | 0 | 0 |');
    expect(markdown).toMatch(/\| pvc \| changed \| 0 \| 0 \| 2 \| ⚠️ 2 \|/);
  });

  it('shows the regenerated ConfigMap as one change with a readable diff', () => {
    expect(markdown).toMatch(/\*\*changed\*\* `ConfigMap emqx-pvc\/emqx-env-[a-z0-9]{10}`: renamed from `emqx-env-[a-z0-9]{10}` \(new hash suffix\); metadata\.name, data\.EMQX_CLUSTER__K8S__SUFFIX/);
    expect(markdown).toContain('-  EMQX_CLUSTER__K8S__SUFFIX: svc.cluster.local\n+  EMQX_CLUSTER__K8S__SUFFIX: svc.example.org');
    expect(markdown).toContain('-            storage: 10Gi\n+            storage: 20Gi');
  });

  it('warns, above the diffs, about the forbidden update, the renamed nodes and the removed StatefulSet', () => {
    const warnings = markdown.slice(markdown.indexOf('### ⚠️ Warnings'), markdown.indexOf('### Changes by overlay'));
    expect(warnings).toContain('**pvc** · `StatefulSet emqx-pvc/emqx` · `immutable-field`: `spec.volumeClaimTemplates` cannot change');
    expect(warnings).toContain('--cascade=orphan');
    expect(warnings).toContain('`emqx-node-name`: EMQX node names change from `emqx@⟨metadata.name⟩.emqx-headless.emqx-pvc.svc.cluster.local` to `emqx@⟨metadata.name⟩.emqx-headless.emqx-pvc.svc.example.org`');
    expect(warnings).toContain('**retired** · `StatefulSet emqx-retired/emqx` · `data-removed`');
    expect(warnings).toMatch(/\*\*retired\*\* · `overlays\/retired` · `target-removed`: retired goes away \(its directory overlays\/retired is deleted\): .* deletes on that cluster .*1 StatefulSet \(emqx\)/);
    expect(warnings).toContain('Its Secrets: kept (Secret emqx-secrets stays: it is not in the render');
  });

  it('writes the full diff to --out', () => {
    expect(readFileSync(path.join(repo, 'diff-output/full.md'), 'utf8')).toBe(markdown);
  });
});

describe('npm run diff against the working tree', () => {
  it('includes uncommitted and untracked changes, and --exit-code exits 1', async () => {
    write('overlays/quiet/kustomization.yaml', overlay('quiet', 'replicas:\n  - name: emqx\n    count: 5\n'));
    write('overlays/untracked/kustomization.yaml', overlay('untracked'));
    try {
      const out = await diff(['--base', 'HEAD', '--exit-code', 'overlays/quiet', 'overlays/untracked', 'overlays/pvc']);
      expect(out.exitCode).toBe(1);
      expect(out.stdout).toMatch(/^quiet +changed +\+0 -0 ~1/m);
      expect(out.stdout).toMatch(/^untracked +added +\+9/m);
      expect(out.stdout).toMatch(/^pvc +unchanged \(inputs not modified\)/m);
      expect(out.stdout).toContain('-  replicas: 3\n+  replicas: 5');
    } finally {
      await sh`git checkout -q -- overlays/quiet`;
      rmSync(path.join(repo, 'overlays/untracked'), { recursive: true });
    }
  });

  it('--merge-base compares against the common ancestor, as a pull request does', async () => {
    const diffed = await diffReport({ base: 'main', head: 'HEAD~1', mergeBase: true });
    // The command exits 0 unless an overlay fails to render at the head (no --exit-code here).
    expect(diffed.overlays.filter((o) => o.failures.some((f) => f.side === 'head'))).toEqual([]);
    // What `--base main --head HEAD~1 --merge-base --format json` prints.
    const report = JSON.parse(formatJson(diffed)) as { base: { ref: string; commit: string }; overlays: Array<{ status: string }> };
    expect(report.base.ref).toBe('merge-base(main, HEAD~1)');
    expect(report.base.commit).toBe((await sh`git rev-parse HEAD~1`).stdout.trim());
    expect(report.overlays.every((o) => o.status === 'unchanged')).toBe(true);
  });

  it('exits 0 with --exit-code when nothing changed', async () => {
    const out = await diff(['--base', 'HEAD', '--exit-code', '--format', 'json']);
    expect(out.exitCode).toBe(0);
    const report = JSON.parse(out.stdout) as { overlays: Array<{ status: string }> };
    expect(report.overlays.every((o) => o.status === 'unchanged')).toBe(true);
  });

  it('exits 2 with a clear message for a ref that does not exist, a missing --base or an unknown --format', async () => {
    const bad = await asCommandError(() => diffReport({ base: 'no-such-branch' }));
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--base no-such-branch: no such commit');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const missing = await diff([]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('--base REF is required');
    // Names every object has (Object.prototype's): they once passed an `in` check on a map of formatters.
    for (const name of ['toString', 'constructor']) {
      const unknown = await diff(['--base', 'HEAD', '--format', name]);
      expect(unknown.exitCode, unknown.stderr).toBe(EXIT_USAGE);
      expect(unknown.stderr).toContain(`--format must be one of text, markdown, json, not "${name}"`);
      expect(unknown.stdout).toBe('');
    }
  });
});

describe('the temporary worktree', () => {
  it('is removed when the work inside it fails', async () => {
    let seen = '';
    await expect(
      withWorktree(repo, 'HEAD~1', async (dir) => {
        seen = dir;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(seen).not.toBe('');
    expect((await sh`git worktree list --porcelain`).stdout).not.toContain(seen);
    expect((await $({ quiet: true, nothrow: true })`test -e ${seen}`).exitCode).not.toBe(0);
  });
});

describe('npm run diff --out', () => {
  it('refuses a directory or a path under a file before doing any work, with exit 2', async () => {
    const file = path.join(repo, 'a-file');
    writeFileSync(file, 'x');
    // diff checks --out this way before it renders anything (the missing --base run above is its exit 2).
    const asDirectory = await asCommandError(() => assertWritable(repo, 'file', '--out'));
    expect(asDirectory.exitCode).toBe(2);
    expect(asDirectory.stderr).toContain(`--out ${repo}: is a directory`);
    expect(asDirectory.stdout).toBe(''); // nothing rendered, nothing printed
    const underFile = await asCommandError(() => assertWritable(path.join(file, 'x.md'), 'file', '--out'));
    expect(underFile.exitCode).toBe(2);
    expect(underFile.stderr).toContain('is a file, not a directory');
    rmSync(file);
  });
});
