// npm run e2e
// git push deploys, for real: on an ephemeral control plane with the pinned Flux controllers, from
// a clone of this working tree (uncommitted changes included) served on 127.0.0.1, bootstrap as the
// README says, then push an EMQX setting, a volumeClaimTemplates change and an overlay removal, and
// check what Flux, the cluster and `npm run diff` make of each (docs/e2e.md).
import { parseCommandLine } from './lib/cli/cli.ts';
import { EXIT_OK, UsageError } from './lib/cli/errors.ts';
import { CONTROL_PLANE_BINARIES, FLUX_BINARIES, requireBinaries } from './lib/tools/control-plane/binaries.ts';
import { formatE2eReport } from './lib/e2e/format.ts';
import { runE2e } from './lib/e2e/run.ts';
import { runMain } from './lib/cli/main.ts';

const USAGE = `usage: npm run e2e [-- --format text|json]

Starts a throw-away Kubernetes control plane and Flux on 127.0.0.1, serves a clone of this working
tree over HTTP, bootstraps with \`kubectl apply -k gitops/flux\`, pushes three commits and checks
what Flux deploys. Prints each stage with its time; stops everything it started, whatever happens.
Needs \`npm run setup -- --control-plane\` once.

  --format F   text (default), or json: the report on standard output, the stages on standard error

exit codes: 0 passed, 1 a stage failed (what it waited for, Flux's conditions, the controllers'
logs), 2 usage error or the control plane is not built`;

await runMain(async () => {
  const { values, positionals } = parseCommandLine(process.argv.slice(2), { format: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`, USAGE);
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format ${format}: use text or json.`, USAGE);
  requireBinaries([...CONTROL_PLANE_BINARIES, ...FLUX_BINARIES]);
  const progress = format === 'json' ? process.stderr : process.stdout;
  const report = await runE2e({ log: (line) => progress.write(`${line}\n`) });
  process.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatE2eReport(report));
  return EXIT_OK;
});
