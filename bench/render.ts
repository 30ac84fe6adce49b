// npm run bench:render: `npm run build` (parallel, with its start-up) against plain sequential
// `kustomize build` of the same overlays, at 3 and 60 overlays, side by side in one run.
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { bestOf, formatTable, generateOverlays } from './lib/fixtures.ts';

const kustomize = await findKustomize();
const quiet = $({ quiet: true, cwd: REPO_ROOT });
const rows: string[][] = [];

for (const count of [3, 60]) {
  const generated = await generateOverlays(count);
  try {
    const dirs = generated.overlays.map((o) => o.dir);
    const sequential = await bestOf(3, async () => {
      for (const dir of dirs) await quiet`${kustomize.build} ${dir}`;
    });
    const build = await bestOf(3, () => quiet`npm run --silent build -- --out ${path.join(generated.root, 'out')} ${dirs}`);
    rows.push([String(count), `${sequential.toFixed(0)} ms`, `${build.toFixed(0)} ms`, `${(build / sequential).toFixed(2)}x`]);
  } finally {
    await generated.cleanup();
  }
}

console.log(`kustomize ${kustomize.version}, ${os.availableParallelism()} cores, best of 3 runs`);
console.log(formatTable(['overlays', 'sequential kustomize', 'npm run build', 'ratio'], rows));
