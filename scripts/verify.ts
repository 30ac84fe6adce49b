// npm run verify -- [--format text|json|sarif] [--kubernetes-version X.Y] [--without-endpoints-controller] [--keep] [OVERLAY_DIR ...]
// Starts an ephemeral Kubernetes control plane on 127.0.0.1 (scripts/lib/tools/control-plane), applies
// each overlay as Argo CD would and checks what runs (scripts/lib/verify), then tears it all down.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { formatOption, parseCommandLine } from './lib/cli/cli.ts';
import { CONTROL_PLANE_BINARIES, requireBinaries, SETUP_COMMAND } from './lib/tools/control-plane/binaries.ts';
import { WITHOUT_ENDPOINTS_CONTROLLERS } from './lib/tools/control-plane/controllers.ts';
import { startControlPlane } from './lib/tools/control-plane/start.ts';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from './lib/cli/errors.ts';
import { describeKustomize, findKustomize } from './lib/tools/kustomize.ts';
import { runMain } from './lib/cli/main.ts';
import { displayPath, REPO_ROOT } from './lib/util/paths.ts';
import { formatJson } from './lib/report/format-json.ts';
import { formatSarif } from './lib/report/format-sarif.ts';
import { formatText, tally } from './lib/report/format-text.ts';
import { selectOverlays } from './lib/model/select-overlays.ts';
import { KUBERNETES_CONTROL_PLANE_VERSION } from './lib/setup/tool-versions.ts';
import { loadValidateConfig } from './lib/validate/config.ts';
import { defaultTargets } from './lib/validate/targets.ts';
import { requirePinnedCrds } from './lib/tools/control-plane/crds.ts';
import { verifyRuleList } from './lib/verify/rules.ts';
import { verifyTargets, waitMsFromEnv, WAIT_ENV, DEFAULT_WAIT_SECONDS } from './lib/verify/run.ts';

const BUILT_MINOR = KUBERNETES_CONTROL_PLANE_VERSION.replace(/^v/, '').split('.').slice(0, 2).join('.');
const FORMATS = ['text', 'json', 'sarif'] as const;
type Format = (typeof FORMATS)[number];

const USAGE = `usage: npm run verify -- [--format text|json|sarif] [--kubernetes-version X.Y] [--without-endpoints-controller] [--keep] [OVERLAY_DIR ...]

Starts an ephemeral Kubernetes ${BUILT_MINOR} control plane on 127.0.0.1 (built by \`${SETUP_COMMAND}\`),
server-side applies each overlay as Argo CD does and checks what runs: replicas Ready, claims Bound,
a deleted pod back with its name and claims, EMQX discovery as EMQX does it, the pods' RBAC
(docs/verify.md lists every check). With no OVERLAY_DIR: the same targets as validate.

  --format              text (default), json (a list of findings) or sarif (GitHub code scanning)
  --kubernetes-version  ${BUILT_MINOR} (the control plane the set-up built)
  --without-endpoints-controller
                        run kube-controller-manager with --controllers=${WITHOUT_ENDPOINTS_CONTROLLERS.join(',')},
                        as a cluster that no longer fills v1 Endpoints (KEP-4974); brokers that
                        discover peers through the Endpoints API are a finding
  --keep                leave the control plane running afterwards and print its kubeconfig;
                        Ctrl-C stops it

  ${WAIT_ENV}   bound on each wait (default ${DEFAULT_WAIT_SECONDS})

exit codes: 0 no error-level finding, 1 findings, 2 usage error or a missing or broken tool`;

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

await runMain(async () => {
  const { values, positionals } = parseCommandLine(
    process.argv.slice(2),
    {
      format: { type: 'string', default: 'text' },
      'kubernetes-version': { type: 'string', default: BUILT_MINOR },
      'without-endpoints-controller': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  const format: Format = formatOption(values.format, FORMATS, USAGE);
  if (values['kubernetes-version'] !== BUILT_MINOR) {
    throw new UsageError(
      `--kubernetes-version ${values['kubernetes-version']}: verify runs the control plane the set-up built, Kubernetes ${KUBERNETES_CONTROL_PLANE_VERSION} (${BUILT_MINOR}).\n` +
        `To verify against another release, change KUBERNETES_CONTROL_PLANE_VERSION in scripts/lib/setup/tool-versions.ts and run \`${SETUP_COMMAND}\` again; ` +
        `\`npm run validate -- --kubernetes-version X.Y\` checks the other supported releases offline.`,
      USAGE,
    );
  }
  const waitMs = waitMsFromEnv();
  const targets = positionals.length > 0 ? selectOverlays(positionals, USAGE) : defaultTargets();
  if (targets.length === 0) throw new UsageError('no overlays found: overlays/ holds no directory with a kustomization.yaml.', USAGE);
  // A missing binary first: its message names the set-up command and what a cold build costs.
  requireBinaries(CONTROL_PLANE_BINARIES);
  requirePinnedCrds();
  const config = loadValidateConfig();
  const kustomize = await findKustomize();
  const warning = describeKustomize(kustomize);
  if (warning) process.stderr.write(`${warning}\n`);

  const log = (line: string) => process.stderr.write(`${line}\n`);
  const withoutEndpoints = values['without-endpoints-controller'];
  if (withoutEndpoints) log(`kube-controller-manager --controllers=${WITHOUT_ENDPOINTS_CONTROLLERS.join(',')}: nothing fills v1 Endpoints (KEP-4974)`);
  const cp = await startControlPlane({ log, ...(withoutEndpoints ? { controllers: WITHOUT_ENDPOINTS_CONTROLLERS } : {}) });
  let keep = false;
  try {
    const started = Date.now();
    const reports = await verifyTargets(targets, { kustomize, controlPlane: cp, externalSecrets: config.externalSecrets, waitMs, note: (line) => log(`  ${line}`) });
    log(`verified ${targets.length} target(s) in ${((Date.now() - started) / 1000).toFixed(1)} s (control plane started in ${(cp.startedInMs / 1000).toFixed(1)} s)`);
    const output =
      format === 'json'
        ? formatJson(reports)
        : format === 'sarif'
          ? formatSarif(reports, { toolName: 'emqx-gitops verify', toolVersion: packageVersion(), rules: verifyRuleList() })
          : formatText(reports);
    process.stdout.write(output);
    const code = tally(reports).errors > 0 ? EXIT_FINDINGS : EXIT_OK;
    if (values.keep) {
      keep = true;
      // The report first, then how to reach what is kept.
      await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
      log(
        [
          '',
          `--keep: the control plane is still running (exit code would be ${code}). Explore it with the kubectl the set-up built:`,
          `  export KUBECONFIG=${cp.kubeconfig}`,
          `  ${displayPath(path.join(REPO_ROOT, '.tools', 'bin', 'kubectl'))} get pods -A`,
          `Press Ctrl-C to stop it and remove ${cp.dir}, or from another terminal: kill ${process.pid}`,
        ].join('\n'),
      );
      // Stays in the foreground until Ctrl-C or SIGTERM; processes.ts then stops every server and
      // removes the directory before exiting.
      await new Promise<never>(() => setInterval(() => {}, 1 << 30));
    }
    return code;
  } finally {
    if (!keep) await cp.stop();
  }
});
