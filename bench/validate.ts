// npm run bench:validate: `npm run validate` (render in parallel, kubeconform, every rule, with its
// start-up) against plain sequential `kustomize build` of the same overlays, at 3 and 60 overlays,
// measured side by side in one run. Goals on 2 cores: within 2x at 3 overlays, under 0.8x at 60.
import os from 'node:os';
import { $ } from 'zx';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { bestOf, formatTable, generateOverlays } from './lib/fixtures.ts';

const kustomize = await findKustomize();
const quiet = $({ quiet: true, cwd: REPO_ROOT });
const runs = Number(process.env.BENCH_RUNS ?? 3);
const rows: string[][] = [];

/** validate exits 1 on findings (a generated overlay may have some); 2 would mean it did not run. */
async function validate(dirs: readonly string[]): Promise<void> {
  const out = await $({ quiet: true, nothrow: true, cwd: REPO_ROOT })`npm run -s validate -- --format json ${dirs}`;
  if (out.exitCode !== 0 && out.exitCode !== 1) throw new Error(`npm run validate exited ${out.exitCode}:\n${out.stderr}`);
}

for (const count of [3, 60]) {
  const generated = await generateOverlays(count);
  try {
    const dirs = generated.overlays.map((o) => o.dir);
    // Once untimed, so that neither side pays for a cold file cache.
    await validate(dirs);
    const sequential = await bestOf(runs, async () => {
      for (const dir of dirs) await quiet`${kustomize.build} ${dir}`;
    });
    const validated = await bestOf(runs, () => validate(dirs));
    rows.push([String(count), `${sequential.toFixed(0)} ms`, `${validated.toFixed(0)} ms`, `${(validated / sequential).toFixed(2)}x`, count === 3 ? '< 2x' : '< 0.8x']);
  } finally {
    await generated.cleanup();
  }
}

console.log(`kustomize ${kustomize.version}, ${os.availableParallelism()} cores, best of ${runs} runs`);
console.log(formatTable(['overlays', 'sequential kustomize', 'npm run validate', 'ratio', 'goal'], rows));
