// npm run gitops:flux [--check] [--root DIR]
// Writes gitops/flux/overlays/: one Namespace and one Flux Kustomization per directory under
// overlays/. Flux has no directory generator, so this is the step that makes a new overlay deploy.
import { readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './lib/atomic-write.ts';
import { parseCommandLine } from './lib/cli.ts';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UserError } from './lib/errors.ts';
import { compareFluxFiles, describeDrift, fluxFilesFor, isUpToDate, overlayProblem } from './lib/gitops/flux.ts';
import { runMain } from './lib/main.ts';
import { listOverlays } from './lib/overlays.ts';
import { displayPath, REPO_ROOT } from './lib/paths.ts';

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
  for (const file of [...drift.missing, ...drift.changed]) {
    await writeFileAtomic(path.join(outDir, file), expected.get(file)!);
    process.stdout.write(`wrote   ${displayPath(path.join(outDir, file))}\n`);
  }
  for (const file of drift.extra) {
    await rm(path.join(outDir, file));
    await removeEmptyParents(path.dirname(path.join(outDir, file)), outDir);
    process.stdout.write(`removed ${displayPath(path.join(outDir, file))}\n`);
  }
  return EXIT_OK;
});

/** A removed overlay leaves an empty directory behind otherwise. */
async function removeEmptyParents(dir: string, stop: string): Promise<void> {
  while (dir.startsWith(stop + path.sep) && (await readdir(dir)).length === 0) {
    await rmdir(dir);
    dir = path.dirname(dir);
  }
}
