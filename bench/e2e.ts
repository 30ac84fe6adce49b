// npm run bench:e2e: each stage's time for both engines, from one `npm run e2e -- --engine both`
// (the command itself: Argo CD's half runs in its private network namespace), and the goal that the
// Argo CD run takes at most twice the Flux run's wall time. Shared stages line up by name.
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx/core';
import type { E2eReport } from '../scripts/lib/e2e/run.ts';
import { EXIT_OK, ToolError } from '../scripts/lib/cli/errors.ts';
import { runMain } from '../scripts/lib/cli/main.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { formatTable } from './lib/fixtures.ts';

const GOAL = 2;
const SHARED = [/^clone /, /^start the control plane/, /^bootstrap:/, /^push: EMQX_/, /^push: a new claim size/, /^push: an overlay directory removed/];

await runMain(async () => {
  const out = await $({ quiet: true, nothrow: true, cwd: REPO_ROOT, timeout: 30 * 60_000 })`node ${path.join(REPO_ROOT, 'scripts', 'run.mjs')} e2e --engine both --format json`;
  if (out.exitCode !== 0) throw new ToolError(`npm run e2e -- --engine both failed (exit ${out.exitCode}):\n${out.stderr.trim().split('\n').slice(-30).join('\n')}`);
  const { runs } = JSON.parse(out.stdout) as E2eReport;
  const total = (engine: string) => runs.find((r) => r.engine === engine)!.stages.reduce((a, s) => a + s.seconds, 0);
  const rows = runs.flatMap((r) => r.stages.map((s) => [r.engine, s.name, `${s.seconds.toFixed(1)} s`]));
  for (const r of runs) rows.push([r.engine, 'in all', `${total(r.engine).toFixed(1)} s`]);
  console.log(`${os.availableParallelism()} cores; overlays: ${runs[0]?.overlays.join(', ')}`);
  console.log(formatTable(['engine', 'stage', 'time'], rows));
  const ratio = total('argocd') / total('flux');
  console.log(`Argo CD / Flux wall time: ${ratio.toFixed(2)}x (goal <= ${GOAL}x)${ratio <= GOAL ? '' : ' MISSED'}`);
  // Argo CD's run has stages Flux's has not (the Replace options, the uninstall, a second cluster):
  // the ratio of the stages both runs have (set-up, bootstrap, the setting, the claim size, the removal).
  const shared = (engine: string) => runs.find((r) => r.engine === engine)!.stages.filter((s) => SHARED.some((re) => re.test(s.name))).reduce((a, s) => a + s.seconds, 0);
  console.log(`the stages both engines run: ${(shared('argocd') / shared('flux')).toFixed(2)}x (${shared('argocd').toFixed(1)} s vs ${shared('flux').toFixed(1)} s)`);
  return EXIT_OK;
});
