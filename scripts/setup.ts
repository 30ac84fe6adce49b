// npm run setup (also run by `npm ci` / `npm install` through the `prepare` script); `-- --renovate` adds
// Renovate and its Node 24 for `npm run deps`, `-- --control-plane` the control plane, Flux and Argo CD.
// Installs the pinned tools into .tools/bin, bundles the commands into .tools/dist, then generates the JSON schemas kubeconform validates
// against into .tools/schemas (docs/schemas.md). Needs the network once; every command after it works
// offline. Safe to re-run: what is already there at the pinned version is kept.
import { which } from 'zx';
import { bundleCommands } from './lib/setup/bundle.ts';
import { EXIT_OK, ToolError, UsageError } from './lib/cli/errors.ts';
import { runMain } from './lib/cli/main.ts';
import { displayPath, TOOLS_BIN } from './lib/util/paths.ts';
import { generatePinnedSchemas } from './lib/setup/schemas/generate.ts';
import { SCHEMAS_DIR } from './lib/setup/schema-location.ts';
import { installPinnedTool } from './lib/setup/setup-tools.ts';
import { setUpControlPlane } from './lib/setup/setup-control-plane.ts';
import { installRenovate, pinnedRenovate, RENOVATE_DIR } from './lib/setup/setup-renovate.ts';
import { CONTROL_PLANE_TOOLS, PINNED_TOOLS } from './lib/setup/tool-versions.ts';

const USAGE = 'usage: npm run setup [-- --control-plane] [--renovate]';

await runMain(async () => {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--control-plane' && a !== '--renovate');
  if (unknown.length > 0) throw new UsageError(`unknown argument ${unknown.join(' ')}`, USAGE);
  for (const tool of PINNED_TOOLS) {
    const outcome = await installPinnedTool(TOOLS_BIN, tool);
    const where = `${displayPath(TOOLS_BIN)}/${tool.name}`;
    if (outcome === 'installed') process.stdout.write(`setup: installed ${tool.name} ${tool.version} -> ${where}\n`);
    if (outcome === 'no-go') {
      process.stderr.write(
        `setup: warning: Go is not installed, so ${tool.name} ${tool.version} was not installed. ` +
          `The scripts will use a ${tool.name} from PATH if there is one. Install Go and run \`npm run setup\` to pin it.\n`,
      );
    }
  }
  // Fast start-up for `npm run build|validate|diff|schemas`; scripts/run.mjs falls back to the
  // sources if this fails or they change.
  try {
    await bundleCommands();
  } catch (error) {
    process.stderr.write(`setup: warning: could not bundle the commands (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); they will run from source, a little slower.\n`);
  }
  // Renovate for `npm run deps` (docs/deps.md): npm packages, so before the Go steps and without Go.
  if (args.includes('--renovate')) {
    const pins = pinnedRenovate();
    const outcome = await installRenovate();
    process.stdout.write(`setup: Renovate ${pins.renovate} and Node ${pins.node ?? '(none for this machine)'} ${outcome === 'present' ? 'present' : 'installed'} -> ${displayPath(RENOVATE_DIR)}\n`);
  }
  // Schemas come from Go modules too: without Go there is nothing to fetch them with.
  if (!(await which('go', { nothrow: true }))) {
    if (args.includes('--control-plane')) throw new ToolError('Go is needed to build the control plane, and it is not on PATH.\nFix: install Go 1.26 or later (https://go.dev/dl) and run `npm run setup -- --control-plane` again.');
    process.stderr.write('setup: warning: Go is not installed, so the kubeconform schemas were not generated; `npm run validate` needs them. Install Go and run `npm run setup`.\n');
    return EXIT_OK;
  }
  const reports = await generatePinnedSchemas(SCHEMAS_DIR);
  for (const r of reports ?? []) process.stdout.write(`setup: wrote ${r.count} schemas -> ${displayPath(r.folder)}\n`);
  if (args.includes('--control-plane')) {
    let warned = false;
    await setUpControlPlane(
      TOOLS_BIN,
      (b) => {
        if (!warned) {
          process.stdout.write('setup: building the control plane, Flux and Argo CD with Go; a cold build takes about 20 minutes on 2 cores and 3 GB of memory, a warm one seconds.\n');
          warned = true;
        }
        process.stdout.write(`setup: building ${b.module}@${b.version} (${Object.values(b.binaries).join(', ')}) ...\n`);
      },
      (r) => {
        const what = r.outcome === 'present' ? 'present' : `built in ${r.seconds.toFixed(0)} s`;
        process.stdout.write(`setup: ${r.binary} ${r.build.version} ${what} -> ${displayPath(TOOLS_BIN)}/${r.binary}\n`);
      },
    );
    // The OCI registry the publish tests push to: a plain `go install`, kept like PINNED_TOOLS.
    for (const tool of CONTROL_PLANE_TOOLS) {
      const started = Date.now();
      const outcome = await installPinnedTool(TOOLS_BIN, tool);
      const what = outcome === 'installed' ? `built in ${((Date.now() - started) / 1000).toFixed(0)} s` : 'present';
      process.stdout.write(`setup: ${tool.name} ${tool.version} ${what} -> ${displayPath(TOOLS_BIN)}/${tool.name}\n`);
    }
  }
  return EXIT_OK;
});
