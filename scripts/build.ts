// npm run build -- [--out DIR] [OVERLAY_DIR ...]
// Renders each overlay with kustomize into DIR/<overlay name>.yaml. Writes nothing unless every
// overlay renders, and then each file atomically: a failed run never leaves half a render behind.
import path from 'node:path';
import { parseCommandLine } from './lib/cli/cli.ts';
import { EXIT_FINDINGS, EXIT_OK } from './lib/cli/errors.ts';
import { describeKustomize, findKustomize } from './lib/tools/kustomize.ts';
import { runMain } from './lib/cli/main.ts';
import { DEFAULT_RENDER_DIR, displayPath } from './lib/util/paths.ts';
import { renderOverlays } from './lib/model/render.ts';
import { countObjects } from './lib/model/render-stream.ts';
import { selectOverlays } from './lib/model/select-overlays.ts';
import { assertWritable, writeFileAtomic } from './lib/util/atomic-write.ts';

const USAGE = `usage: npm run build -- [--out DIR] [OVERLAY_DIR ...]

Renders each overlay with kustomize into DIR/<overlay name>.yaml (default DIR: rendered/).
With no OVERLAY_DIR, every directory under overlays/ and clusters/.

exit codes: 0 rendered, 1 an overlay failed to render (nothing written), 2 usage or tool error`;

await runMain(async () => {
  const { values, positionals } = parseCommandLine(
    process.argv.slice(2),
    { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  const outDir = path.resolve(values.out ?? DEFAULT_RENDER_DIR);
  const overlays = selectOverlays(positionals, USAGE, { writesFiles: true });
  await assertWritable(outDir, 'directory', '--out');
  const kustomize = await findKustomize();
  const warning = describeKustomize(kustomize);
  if (warning) process.stderr.write(`${warning}\n`);

  const { rendered, failures } = await renderOverlays(kustomize, overlays, { batch: true });
  if (failures.length > 0) {
    for (const failure of failures) process.stderr.write(`${failure.message}\n`);
    process.stderr.write(`${failures.length} of ${overlays.length} overlays failed to render; nothing was written.\n`);
    return EXIT_FINDINGS;
  }
  for (const { overlay, yaml } of rendered) {
    const file = path.join(outDir, `${overlay.name}.yaml`);
    await writeFileAtomic(file, yaml);
    process.stdout.write(`${displayPath(overlay.dir)} -> ${displayPath(file)} (${countObjects(yaml)} objects)\n`);
  }
  return EXIT_OK;
});
