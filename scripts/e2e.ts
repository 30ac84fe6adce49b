// npm run e2e
// git push deploys, for real: for each engine (Flux, Argo CD), on an ephemeral control plane with
// the pinned controllers, from a clone of this working tree (uncommitted changes included) served on
// 127.0.0.1: bootstrap as the README says, then push an EMQX setting, a volumeClaimTemplates change
// and an overlay removal (and each engine's own remedies), and check what the engine, the cluster and
// `npm run diff` make of each (docs/e2e.md).
import path from 'node:path';
import { parseCommandLine } from './lib/cli/cli.ts';
import { requireRedisServer } from './lib/setup/setup-control-plane.ts';
import { ARGOCD_BINARIES, CONTROL_PLANE_BINARIES, FLUX_BINARIES, requireBinaries } from './lib/tools/control-plane/binaries.ts';
import { insidePrivateNetwork, requirePrivateNetwork, runInPrivateNetwork } from './lib/tools/control-plane/netns.ts';
import { ENGINE_NAMES, type EngineName } from './lib/e2e/engine.ts';
import { formatE2eReport } from './lib/e2e/format.ts';
import { runE2e } from './lib/e2e/run.ts';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError } from './lib/cli/errors.ts';
import { runMain } from './lib/cli/main.ts';
import { REPO_ROOT } from './lib/util/paths.ts';

const USAGE = `usage: npm run e2e [-- --engine argocd|flux|both] [--format text|json]

For each engine, starts a throw-away Kubernetes control plane and the engine's controllers on
127.0.0.1, serves a clone of this working tree over HTTP, bootstraps with \`kubectl apply -k
gitops/flux\` or \`gitops/argocd\`, pushes commits and checks what the engine deploys. Prints each
stage with its time; stops everything it started, whatever happens. Needs \`npm run setup --
--control-plane\` once; Argo CD also needs redis-server, and runs in a private network namespace
(unshare and ip, as root or with unprivileged user namespaces).

  --engine E   argocd, flux or both (default): both run one after the other, Flux first
  --format F   text (default), or json: the report on standard output, the stages on standard error

exit codes: 0 passed, 1 a stage failed (what it waited for, the engine's status, the controllers'
logs), 2 usage error, or the control plane, Argo CD or redis-server is not installed`;

function enginesOf(value: string | undefined): EngineName[] {
  if (value === undefined || value === 'both') return [...ENGINE_NAMES];
  if ((ENGINE_NAMES as readonly string[]).includes(value)) return [value as EngineName];
  throw new UsageError(`--engine ${value}: use argocd, flux or both.`, USAGE);
}

await runMain(async () => {
  const { values, positionals } = parseCommandLine(process.argv.slice(2), { format: { type: 'string' }, engine: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`, USAGE);
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format ${format}: use text or json.`, USAGE);
  const engines = enginesOf(values.engine);
  requireBinaries([...CONTROL_PLANE_BINARIES, ...(engines.includes('flux') ? FLUX_BINARIES : []), ...(engines.includes('argocd') ? ARGOCD_BINARIES : [])]);
  if (engines.includes('argocd')) {
    await requireRedisServer();
    // Argo CD's application-controller binds its metrics on 0.0.0.0 whatever it is told: run the
    // whole e2e where 0.0.0.0 is loopback only (control-plane/netns.ts).
    if (!insidePrivateNetwork()) {
      await requirePrivateNetwork('the Argo CD e2e');
      const code = await runInPrivateNetwork([process.execPath, path.join(REPO_ROOT, 'scripts', 'run.mjs'), 'e2e', ...process.argv.slice(2)]);
      // 130 or 143: interrupted, and the inner run already said so.
      if (code !== EXIT_OK && code !== EXIT_FINDINGS && code !== EXIT_USAGE) process.exit(code);
      return code;
    }
  }
  const progress = format === 'json' ? process.stderr : process.stdout;
  const report = await runE2e({ engines, log: (line) => progress.write(`${line}\n`) });
  process.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatE2eReport(report));
  return EXIT_OK;
});
