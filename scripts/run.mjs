// npm run <command> -> node scripts/run.mjs <command> [args]
//
// Plain JavaScript on purpose: it is the one file Node 20 must run before any TypeScript loader.
// It starts the bundle the set-up built (.tools/dist/<command>.mjs, see scripts/lib/setup/bundle.ts)
// when none of the bundle's sources changed since, and otherwise runs scripts/<command>.ts with
// tsx, so what runs is always what the sources say.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...args] = process.argv.slice(2);
if (!command || !/^[\w-]+$/.test(command) || !existsSync(path.join(root, 'scripts', `${command}.ts`))) {
  process.stderr.write(`usage: node scripts/run.mjs COMMAND [ARGS]: no scripts/${command ?? ''}.ts\n`);
  process.exit(2);
}

function freshBundle() {
  const bundle = path.join(root, '.tools', 'dist', `${command}.mjs`);
  const manifestFile = path.join(root, '.tools', 'dist', `${command}.json`);
  if (!existsSync(bundle) || !existsSync(manifestFile)) return undefined;
  try {
    const { inputs } = JSON.parse(readFileSync(manifestFile, 'utf8'));
    for (const [file, mtimeMs] of Object.entries(inputs)) {
      if (statSync(path.join(root, file)).mtimeMs !== mtimeMs) return undefined;
    }
    return bundle;
  } catch {
    return undefined; // a source was removed or the manifest is unreadable: run the sources
  }
}

const bundle = process.env.EMQX_GITOPS_NO_BUNDLE ? undefined : freshBundle();
const script = bundle ?? path.join(root, 'scripts', `${command}.ts`);
if (!bundle) (await import('tsx/esm/api')).register();
process.argv = [process.argv[0], script, ...args];
await import(pathToFileURL(script).href);
