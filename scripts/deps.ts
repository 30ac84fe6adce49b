// npm run deps -- [--check] [--root DIR]
// Runs the pinned Renovate offline in extract mode (scripts/lib/tools/renovate.ts) and prints every
// dependency it would keep current. --check also holds it to the kit's own list of pins
// (scripts/lib/deps/pins.ts) and validates renovate.json (docs/deps.md).
import path from 'node:path';
import { parseCommandLine } from './lib/cli/cli.ts';
import { EXIT_FINDINGS, EXIT_OK } from './lib/cli/errors.ts';
import { runMain } from './lib/cli/main.ts';
import { formatProblems, formatTable } from './lib/deps/check.ts';
import { runDeps } from './lib/deps/run.ts';
import { findRenovate } from './lib/tools/renovate.ts';
import { REPO_ROOT } from './lib/util/paths.ts';

const USAGE = `usage: npm run deps -- [--check] [--root DIR]

Checks renovate.json with Renovate's validator, then lists every dependency Renovate finds in the
repository (file, dependency, current version, manager), with the Renovate and Node 24 the set-up
installed (\`npm run setup -- --renovate\`), offline: extract mode looks nothing up. Renovate
reads the files git tracks.

  --check  also fail on a pin of scripts/lib/setup/tool-versions.ts, .github/workflows/ or base/
           that Renovate does not extract exactly once
  --root   the repository to read (default: this one)

exit codes: 0 listed (and with --check, every pin extracted once), 1 renovate.json invalid (its
validator's messages), or with --check a pin not extracted or extracted twice, 2 usage error,
Renovate not installed or failing`;

await runMain(async () => {
  const { values } = parseCommandLine(process.argv.slice(2), { check: { type: 'boolean' }, root: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  const root = path.resolve(values.root ?? REPO_ROOT);
  const renovate = await findRenovate();
  const report = await runDeps(renovate, root, { check: values.check === true, usage: USAGE });
  if (report.outcome === 'invalid-config') {
    process.stderr.write(`renovate.json: Renovate's validator refuses it, and with it Renovate extracts nothing:\n${report.configMessages.map((m) => `  ${m}`).join('\n')}\nFix: correct renovate.json (docs/deps.md explains each rule).\n`);
    return EXIT_FINDINGS;
  }
  process.stdout.write(`${formatTable(report.rows)}\n`);
  const summary = `deps: Renovate ${renovate.version} extracted ${report.rows.length} dependencies in ${report.seconds.toFixed(1)} s`;
  if (!report.pins) {
    process.stdout.write(`${summary}\n`);
    return EXIT_OK;
  }
  const problems = report.problems ?? [];
  if (problems.length > 0) process.stderr.write(`${formatProblems(problems)}\n`);
  process.stdout.write(`${summary}; ${report.pins.length} pins in tool-versions.ts, the workflows and base/: ${problems.length === 0 ? 'each extracted once' : `${problems.length} not extracted exactly once`}\n`);
  return problems.length > 0 ? EXIT_FINDINGS : EXIT_OK;
});
