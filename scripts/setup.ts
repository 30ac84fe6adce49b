// npm run setup (also run by `npm ci` / `npm install` through the `prepare` script).
// Installs the pinned tools into .tools/bin. Needs the network once; every command after it works
// offline. Safe to re-run: what is already there at the pinned version is kept.
import { EXIT_OK } from './lib/errors.ts';
import { runMain } from './lib/main.ts';
import { displayPath, TOOLS_BIN } from './lib/paths.ts';
import { installPinnedTool } from './lib/setup-tools.ts';
import { PINNED_TOOLS } from './lib/tool-versions.ts';

await runMain(async () => {
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
  return EXIT_OK;
});
