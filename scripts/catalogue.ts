// npm run catalogue -- --docs <emqx-docs checkout or dump file> --emqx <emqx checkout> [--version 5.8.9] [--out FILE]
// Derives the catalogue of EMQX configuration paths that validate and diff check `EMQX_*`
// variables against, from local checkouts only, and writes catalogue/emqx-<version>.json.
import { parseCommandLine } from './lib/cli/cli.ts';
import { EXIT_OK, UsageError } from './lib/cli/errors.ts';
import { generateCatalogue } from './lib/catalogue/generate.ts';
import { runMain } from './lib/cli/main.ts';
import { displayPath } from './lib/util/paths.ts';

const USAGE = `usage: npm run catalogue -- --docs <emqx-docs checkout | hocon-ce-vX.Y.Z-en.json> --emqx <emqx checkout> [--version 5.8.9] [--docs-ref REF] [--out FILE]

Writes catalogue/emqx-<version>.json: every EMQX configuration path with its type, default and
whether it is hidden, from the schema dump in emqx-docs, the schema modules of emqx/emqx at tag
v<version> (and at the dump's tag, for what changed since), and catalogue/emqx-<version>.hidden.yaml.
Reads local files only: clone the two repositories first (docs/validate.md, "The EMQX configuration catalogue").

  --docs      an emqx/emqx-docs checkout (the newest hocon/hocon-ce-v<minor>.*-en.json not newer
              than --version is used) or one dump file
  --docs-ref  the emqx-docs ref to read (default HEAD)
  --emqx      an emqx/emqx checkout (bare or not) with the tags v<version> and v<dump version>
  --version   the EMQX release (default 5.8.9)
  --out       where to write (default catalogue/emqx-<version>.json)

exit codes: 0 written, 2 usage error or unreadable input`;

await runMain(async () => {
  const argv = process.argv.slice(2);
  const { values, positionals } = parseCommandLine(
    argv,
    { docs: { type: 'string' }, 'docs-ref': { type: 'string' }, emqx: { type: 'string' }, version: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`, USAGE);
  if (!values.docs || !values.emqx) throw new UsageError('--docs and --emqx are required', USAGE);
  const version = values.version ?? '5.8.9';
  const result = await generateCatalogue({
    docs: values.docs,
    emqx: values.emqx,
    version,
    ...(values['docs-ref'] ? { docsRef: values['docs-ref'] } : {}),
    ...(values.out ? { out: values.out } : {}),
    command: `npm run catalogue -- --version ${version} --docs <emqx-docs> --emqx <emqx>${values['docs-ref'] ? ` --docs-ref ${values['docs-ref']}` : ''}`,
  });
  const count = Object.keys(result.catalogue.paths).length;
  process.stdout.write(`${displayPath(result.file)}: ${count} paths (dump ${result.dumpFile}, EMQX v${version})\n`);
  return EXIT_OK;
});
