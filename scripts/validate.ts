// npm run validate -- [--format text|json|sarif] [--kubernetes-version X.Y] [OVERLAY_DIR ...]
// Renders each overlay (through scripts/lib/model/render.ts, as `build` does), checks it against the
// Kubernetes schemas and the rules in scripts/lib/validate/rules, and reports the findings.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { formatOption, parseCommandLine } from './lib/cli/cli.ts';
import { REPO_ROOT } from './lib/util/paths.ts';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from './lib/cli/errors.ts';
import { describeKustomize, findKustomize } from './lib/tools/kustomize.ts';
import { runMain } from './lib/cli/main.ts';
import { DEFAULT_KUBERNETES_VERSION, schemaDirFor, SUPPORTED_KUBERNETES_VERSIONS } from './lib/setup/schema-location.ts';
import { selectOverlays } from './lib/model/select-overlays.ts';
import { validateRuleList } from './lib/validate/rule-list.ts';
import { loadValidateConfig } from './lib/validate/config.ts';
import { formatJson } from './lib/report/format-json.ts';
import { formatSarif } from './lib/report/format-sarif.ts';
import { formatText, tally } from './lib/report/format-text.ts';
import { validateOverlays } from './lib/validate/run.ts';
import { kubeconformValidator } from './lib/validate/schema.ts';
import { defaultTargets } from './lib/validate/targets.ts';

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

const FORMATS = ['text', 'json', 'sarif'] as const;
type Format = (typeof FORMATS)[number];

const USAGE = `usage: npm run validate -- [--format text|json|sarif] [--kubernetes-version X.Y] [OVERLAY_DIR ...]

Renders each overlay and checks it: Kubernetes schemas (kubeconform, strict, offline), what the API
server would reject, EMQX clustering and security rules (docs/validate.md lists every rule).
With no OVERLAY_DIR: every directory under overlays/ and clusters/, and every kustomization under gitops/.

  --format              text (default), json (a list of findings) or sarif (GitHub code scanning)
  --kubernetes-version  ${SUPPORTED_KUBERNETES_VERSIONS.join(', ')} (default ${DEFAULT_KUBERNETES_VERSION})

exit codes: 0 no error-level finding, 1 findings, 2 usage error or a missing or broken tool`;

await runMain(async () => {
  const { values, positionals } = parseCommandLine(
    process.argv.slice(2),
    { format: { type: 'string', default: 'text' }, 'kubernetes-version': { type: 'string', default: DEFAULT_KUBERNETES_VERSION }, help: { type: 'boolean', short: 'h' } },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  const format: Format = formatOption(values.format, FORMATS, USAGE);
  const kubernetesVersion = values['kubernetes-version']!;
  // Fails early, with the fix, when the version is unknown or its schemas are not generated.
  schemaDirFor(kubernetesVersion);

  const overlays = positionals.length > 0 ? selectOverlays(positionals, USAGE) : defaultTargets();
  if (overlays.length === 0) throw new UsageError('no overlays found: overlays/ holds no directory with a kustomization.yaml.', USAGE);
  const config = loadValidateConfig();
  const [kustomize, schema] = await Promise.all([findKustomize(), kubeconformValidator(kubernetesVersion)]);
  const warning = describeKustomize(kustomize);
  if (warning) process.stderr.write(`${warning}\n`);

  const reports = await validateOverlays(kustomize, overlays, { schema, externalSecrets: config.externalSecrets });
  const output =
    format === 'json' ? formatJson(reports) : format === 'sarif' ? formatSarif(reports, { toolName: 'emqx-gitops validate', toolVersion: packageVersion(), rules: validateRuleList() }) : formatText(reports);
  process.stdout.write(output);
  if (format !== 'text') process.stderr.write(`checked with ${schema.description}\n`);
  return tally(reports).errors > 0 ? EXIT_FINDINGS : EXIT_OK;
});
