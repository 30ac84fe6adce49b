// npm run bench:diff
// Times `npm run diff` against the floor it must beat: plain sequential `kustomize build` of every
// overlay at both refs (what a naive script does). Measured side by side in one run, on fixture
// repositories of 3 and 60 overlays (copies of the real ones), for two pull requests: one that
// changes the base (every overlay renders twice) and one that changes a single overlay.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { $ } from 'zx';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';

const TEMPLATES = ['single-node', 'deployment-ip', 'statefulset-hostname-pvc'];
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const DIFF = path.join(REPO_ROOT, 'scripts', 'diff.ts');
const RUNS = 3;

const kustomize = await findKustomize();

async function fixture(count: number): Promise<{ repo: string; overlays: string[] }> {
  const repo = mkdtempSync(path.join(os.tmpdir(), `bench-diff-${count}-`));
  cpSync(path.join(REPO_ROOT, 'base'), path.join(repo, 'base'), { recursive: true });
  cpSync(path.join(REPO_ROOT, 'components', 'persistence'), path.join(repo, 'components', 'persistence'), { recursive: true });
  const overlays: string[] = [];
  for (let i = 0; i < count; i++) {
    const template = TEMPLATES[i % TEMPLATES.length]!;
    const name = `${template}-${i}`;
    const dir = path.join(repo, 'overlays', name);
    cpSync(path.join(REPO_ROOT, 'overlays', template), dir, { recursive: true });
    const file = path.join(dir, 'kustomization.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(`namespace: emqx-${template}`, `namespace: emqx-${name}`));
    overlays.push(dir);
  }
  const git = $({ cwd: repo, quiet: true });
  await git`git init -q -b main`;
  await git`git add -A`;
  await git`git -c user.name=bench -c user.email=bench@example.com commit -q -m base`;
  return { repo, overlays };
}

/** Sequential `kustomize build` of every overlay at HEAD (a throwaway worktree) and in the working tree. */
async function sequentialBaseline(repo: string, overlays: readonly string[]): Promise<number> {
  const baseTree = path.join(mkdtempSync(path.join(os.tmpdir(), 'bench-base-')), 'tree');
  await $({ cwd: repo, quiet: true })`git worktree add -q --detach ${baseTree} HEAD`;
  try {
    const started = performance.now();
    for (const tree of [baseTree, repo]) {
      for (const dir of overlays) await $({ quiet: true })`${kustomize.build} ${path.join(tree, path.relative(repo, dir))}`;
    }
    return performance.now() - started;
  } finally {
    await $({ cwd: repo, quiet: true })`git worktree remove --force ${baseTree}`;
    rmSync(path.dirname(baseTree), { recursive: true, force: true });
  }
}

async function npmRunDiff(repo: string): Promise<number> {
  const started = performance.now();
  const out = await $({ cwd: repo, quiet: true, nothrow: true })`${TSX} ${DIFF} --base HEAD --format markdown`;
  const elapsed = performance.now() - started;
  if (out.exitCode !== 0) throw new Error(`diff failed (${out.exitCode}): ${out.stderr}`);
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const rows: string[] = [];
for (const count of [3, 60]) {
  const { repo, overlays } = await fixture(count);
  try {
    const scenarios: Array<{ label: string; apply: () => void }> = [
      { label: 'base changed (all overlays)', apply: () => writeFileSync(path.join(repo, 'base', 'emqx.env'), `${readFileSync(path.join(repo, 'base', 'emqx.env'), 'utf8')}EMQX_CLUSTER__AUTOCLEAN=12h\n`) },
      {
        label: 'one overlay changed',
        apply: () => {
          const file = path.join(overlays[overlays.length - 1]!, 'kustomization.yaml');
          writeFileSync(file, `${readFileSync(file, 'utf8')}\ncommonAnnotations:\n  bench: "1"\n`);
        },
      },
    ];
    let baseline = 0;
    const baselineRuns: number[] = [];
    for (let r = 0; r < RUNS; r++) baselineRuns.push(await sequentialBaseline(repo, overlays));
    baseline = median(baselineRuns);
    for (const scenario of scenarios) {
      await $({ cwd: repo, quiet: true })`git checkout -q -- .`;
      scenario.apply();
      const runs: number[] = [];
      for (let r = 0; r < RUNS; r++) runs.push(await npmRunDiff(repo));
      const diff = median(runs);
      rows.push(
        `${String(count).padStart(3)} overlays | ${scenario.label.padEnd(28)} | npm run diff ${(diff / 1000).toFixed(2).padStart(6)} s | ` +
          `2x sequential kustomize build ${(baseline / 1000).toFixed(2).padStart(6)} s | ratio ${(diff / baseline).toFixed(2)}x`,
      );
      process.stdout.write(`${rows[rows.length - 1]}\n`);
    }
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}
process.stdout.write(`\ncores: ${os.availableParallelism()}, kustomize ${kustomize.version}, median of ${RUNS} runs each (npm run diff includes tsx start-up and git worktree)\n`);
