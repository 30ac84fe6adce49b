// npm run schemas -- [--kubernetes-version X.Y[.Z]] [--from-openapi-v3 DIR [--out DIR]]
// Generates the JSON schemas kubeconform validates against (docs/schemas.md).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCommandLine } from './lib/cli/cli.ts';
import { EXIT_OK, UsageError } from './lib/cli/errors.ts';
import { runMain } from './lib/cli/main.ts';
import { displayPath } from './lib/util/paths.ts';
import {
  generateFromOpenApiDocs,
  generateKubernetesSchemas,
  generatePinnedSchemas,
  latestPatch,
  readClusterOpenApiV3Dir,
  versionFromVersionJson,
  type GenerationReport,
} from './lib/setup/schemas/generate.ts';
import { PINNED_KUBERNETES_PATCHES, SCHEMAS_DIR } from './lib/setup/schema-location.ts';

const USAGE = `Usage: npm run schemas -- [options]

Without options: regenerate the pinned schemas the set-up makes (every supported Kubernetes
release and the pinned CRDs) into ${displayPath(SCHEMAS_DIR)}, even if they are up to date.

  --kubernetes-version X.Y[.Z]  generate the built-in kinds of another Kubernetes release
                                (X.Y: its newest patch on the Go module proxy) into ${displayPath(SCHEMAS_DIR)};
                                then \`npm run validate -- --kubernetes-version X.Y.Z\`.
  --from-openapi-v3 DIR         convert the OpenAPI v3 documents saved from a live cluster
                                (docs/schemas.md has the kubectl commands) into
                                ${displayPath(SCHEMAS_DIR)}/v<cluster version>-standalone-strict; then
                                \`npm run validate -- --kubernetes-version <cluster version>\`. The version
                                comes from DIR/version.json or --kubernetes-version X.Y.Z.
  --out DIR                     with --from-openapi-v3: write into this schema root instead
  -h, --help                    this text

Exit codes: 0 done, 2 usage or tool error (e.g. the Go module proxy is unreachable).`;

const VERSION = /^v?\d+\.\d+(\.\d+)?$/;

await runMain(async () => {
  const { values, positionals } = parseCommandLine(
    process.argv.slice(2),
    {
      'kubernetes-version': { type: 'string' },
      'from-openapi-v3': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`, USAGE);
  const version = values['kubernetes-version'];
  if (version !== undefined && !VERSION.test(version)) {
    throw new UsageError(`--kubernetes-version ${version}: give X.Y or X.Y.Z, e.g. 1.34 or 1.34.2`, USAGE);
  }
  if (values.out !== undefined && values['from-openapi-v3'] === undefined) {
    throw new UsageError('--out goes with --from-openapi-v3 (the pinned schemas always go to .tools/schemas)', USAGE);
  }

  let reports: GenerationReport[];
  if (values['from-openapi-v3'] !== undefined) {
    const dir = path.resolve(values['from-openapi-v3']);
    const out = path.resolve(values.out ?? SCHEMAS_DIR);
    // The directory first: asking for the version of a cluster whose documents are not there yet
    // sends the user to the wrong step.
    const docs = await readClusterOpenApiV3Dir(dir, values['from-openapi-v3']);
    const versionFile = path.join(dir, 'version.json');
    const fromFile = existsSync(versionFile) ? versionFromVersionJson(await readFile(versionFile, 'utf8')) : undefined;
    const patch = version ? full(version) : fromFile;
    if (!patch) {
      throw new UsageError(
        `the cluster's Kubernetes version is unknown: save it with \`kubectl get --raw /version > ${path.join(values['from-openapi-v3'], 'version.json')}\`, ` +
          'or pass --kubernetes-version X.Y.Z',
        USAGE,
      );
    }
    if (out === SCHEMAS_DIR && Object.values(PINNED_KUBERNETES_PATCHES).includes(patch)) {
      throw new UsageError(
        `Kubernetes ${patch} is a pinned release: ${displayPath(SCHEMAS_DIR)} holds its pinned schemas, which the cluster's would replace. ` +
          'Write them elsewhere with --out DIR.',
        USAGE,
      );
    }
    reports = [await generateFromOpenApiDocs(out, docs, patch)];
    process.stdout.write(
      out === SCHEMAS_DIR
        ? `schemas: validate against them with \`npm run validate -- --kubernetes-version ${patch}\`\n`
        : `schemas: a schema root for kubeconform (KubeconformRun.schemaDir): ${displayPath(out)}\n`,
    );
  } else if (version !== undefined) {
    const patch = full(version) ?? (await latestPatch(version.replace(/^v/, '')));
    const { docs: _docs, ...report } = await generateKubernetesSchemas(SCHEMAS_DIR, patch);
    reports = [report];
    process.stdout.write(`schemas: validate against them with \`npm run validate -- --kubernetes-version ${patch}\`\n`);
  } else {
    reports = (await generatePinnedSchemas(SCHEMAS_DIR, { force: true })) ?? [];
  }
  for (const r of reports) process.stdout.write(`schemas: wrote ${r.count} schemas to ${displayPath(r.folder)}\n`);
  return EXIT_OK;
});

/** `1.34.2` / `v1.34.2` -> `1.34.2`; a bare minor -> undefined. */
function full(version: string): string | undefined {
  const v = version.replace(/^v/, '');
  return /^\d+\.\d+\.\d+$/.test(v) ? v : undefined;
}
