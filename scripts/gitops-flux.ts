// npm run gitops:flux [--check] [--root DIR]
// Writes gitops/flux/overlays/: one Namespace and one Flux Kustomization per directory under
// overlays/. Flux has no directory generator, so this is the step that makes a new overlay deploy.
import path from 'node:path';
import { parseCommandLine } from './lib/cli/cli.ts';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UserError } from './lib/cli/errors.ts';
import { compareFluxFiles, describeDrift, fluxFilesFor, isUpToDate, overlayProblem } from './lib/gitops/flux.ts';
import { writeTree } from './lib/gitops/generated.ts';
import { runMain } from './lib/cli/main.ts';
import { listOverlays } from './lib/model/overlays.ts';
import { displayPath, REPO_ROOT } from './lib/util/paths.ts';

const USAGE = `usage: npm run gitops:flux [--check] [--root DIR]

Writes gitops/flux/overlays/ (a Namespace and a Flux Kustomization per directory under overlays/).
Run it after adding, renaming or removing an overlay, and commit the result.

  --check     write nothing; exit 1 when the committed files are out of date
  --root DIR  the repository to work on (default: this one)

exit codes: 0 up to date or written, 1 out of date (--check) or an overlay Flux cannot deploy,
2 usage error`;

await runMain(async () => {
  const { values, positionals } = parseCommandLine(
    process.argv.slice(2),
    { check: { type: 'boolean' }, root: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UserError(`unexpected argument ${positionals[0]}\n\n${USAGE}`, EXIT_USAGE);

  const root = path.resolve(values.root ?? REPO_ROOT);
  const overlays = listOverlays(path.join(root, 'overlays'));
  const problems = overlays.map(overlayProblem).filter((p): p is string => p !== undefined);
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n`);
    return EXIT_FINDINGS;
  }

  const outDir = path.join(root, 'gitops', 'flux', 'overlays');
  const expected = fluxFilesFor(overlays.map((o) => o.name));
  const drift = compareFluxFiles(outDir, expected);
  if (isUpToDate(drift)) {
    process.stdout.write(`${displayPath(outDir)} is up to date (${overlays.length} overlays).\n`);
    return EXIT_OK;
  }
  if (values.check) {
    process.stderr.write(`${describeDrift(outDir, drift)}\n`);
    return EXIT_FINDINGS;
  }
  for (const line of await writeTree({ root: outDir, files: expected, ownedDirs: [''] }, drift)) process.stdout.write(`${line}\n`);
  return EXIT_OK;
});
