// npm run publish -- --registry HOST[:PORT]/PATH [--plain-http | --ca-file FILE] [CLUSTER ...]
// Pushes each cluster's render as a Flux OCI artifact to <registry>/<cluster> and tags it with the
// commit and the cluster's wave (scripts/lib/publish/run.ts; docs/fleet.md, "Edge sites from an
// OCI registry").
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseCommandLine } from './lib/cli/cli.ts';
import { EXIT_OK, UsageError } from './lib/cli/errors.ts';
import { runMain } from './lib/cli/main.ts';
import { publish } from './lib/publish/run.ts';

const USAGE = `usage: npm run publish -- --registry HOST[:PORT][/PATH] [--plain-http | --ca-file FILE] [CLUSTER ...]

Renders each cluster of clusters/inventory.yaml (default: all of them) as \`npm run build\` does,
pushes it as a Flux OCI artifact to HOST[:PORT]/PATH/<cluster> and tags it with the commit
(its first 12 hex digits) and the cluster's wave (wave-<N>). Prints each reference, its tags, the
manifest digest the tags point at and the content digest of the render.
Credentials: those of \`oras login HOST\` (or ~/.docker/config.json).

  --plain-http    the registry speaks HTTP, not HTTPS (a lab or test registry)
  --ca-file FILE  the registry's TLS certificate is signed by this CA

exit codes: 0 published, 1 a cluster failed to render (nothing pushed),
2 usage error, unknown cluster, unreachable registry or refused push (no tag moved)`;

await runMain(async () => {
  const { values, positionals } = parseCommandLine(
    process.argv.slice(2),
    { registry: { type: 'string' }, 'plain-http': { type: 'boolean' }, 'ca-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  if (!values.registry) throw new UsageError('--registry is required', USAGE);
  if (values['plain-http'] && values['ca-file']) throw new UsageError('--plain-http and --ca-file exclude each other: a CA file is for TLS', USAGE);
  if (values['ca-file'] && !existsSync(values['ca-file'])) throw new UsageError(`--ca-file ${values['ca-file']}: no such file`, USAGE);
  const { revision, published } = await publish({
    registry: values.registry,
    // Absolute: oras runs in a temporary folder.
    transport: { plainHttp: values['plain-http'] ?? false, ...(values['ca-file'] ? { caFile: path.resolve(values['ca-file']) } : {}) },
    clusters: positionals,
    usage: USAGE,
    warn: (line) => process.stderr.write(`${line}\n`),
  });
  for (const p of published) {
    process.stdout.write(
      `${p.cluster}: ${p.repository}\n` +
        `  tags: ${p.tags.join(', ')}\n` +
        `  digest: ${p.digest} (manifest: the same render at the same commit gives the same digest)\n` +
        `  content: ${p.contentDigest} (${p.file}, ${p.objects} objects: the same render gives the same digest)\n` +
        (p.held ? `  held: ${p.held.tag} stays at ${p.held.digest} (\`npm run fleet -- promote --wave ${p.held.wave}\` moves it once wave ${p.held.wave - 1} is Ready)\n` : ''),
    );
  }
  process.stdout.write(`published ${published.length} cluster${published.length === 1 ? '' : 's'} at ${revision}\n`);
  return EXIT_OK;
});
