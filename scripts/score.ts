// npm run score -- [--format text|json] [OVERLAY_DIR ...]
// Renders each overlay (scripts/lib/model/render.ts, as `build` does) and scores it with the pinned
// kube-score. A CRITICAL fails, unless the object ignores that check on purpose (docs/kube-score.md).
import { formatOption, parseCommandLine } from './lib/cli/cli.ts';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from './lib/cli/errors.ts';
import { findKubeScore } from './lib/tools/kube-score.ts';
import { describeKustomize, findKustomize } from './lib/tools/kustomize.ts';
import { runMain } from './lib/cli/main.ts';
import { formatJson, formatText } from './lib/score/format.ts';
import { hasCritical, scoreOverlays } from './lib/score/run.ts';
import { selectOverlays } from './lib/model/select-overlays.ts';
import { defaultTargets } from './lib/validate/targets.ts';

const FORMATS = ['text', 'json'] as const;
type Format = (typeof FORMATS)[number];

const USAGE = `usage: npm run score -- [--format text|json] [OVERLAY_DIR ...]

Renders each overlay and scores it with kube-score (the pinned version, offline). Checks an object
does not pass on purpose are listed in its kube-score/ignore annotation, with the reason beside it
(docs/kube-score.md). With no OVERLAY_DIR: what \`npm run validate\` checks.

  --format  text (default) or json

exit codes: 0 no CRITICAL (warnings are printed), 1 a CRITICAL or an overlay that does not render,
2 usage error or a missing or broken tool`;

await runMain(async () => {
  const { values, positionals } = parseCommandLine(process.argv.slice(2), { format: { type: 'string', default: 'text' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  const format: Format = formatOption(values.format, FORMATS, USAGE);
  const overlays = positionals.length > 0 ? selectOverlays(positionals, USAGE) : defaultTargets();
  if (overlays.length === 0) throw new UsageError('no overlays found: overlays/ holds no directory with a kustomization.yaml.', USAGE);
  const [kustomize, kubeScore] = await Promise.all([findKustomize(), findKubeScore()]);
  const warning = describeKustomize(kustomize);
  if (warning) process.stderr.write(`${warning}\n`);
  const reports = await scoreOverlays(kustomize, kubeScore, overlays);
  process.stdout.write(format === 'json' ? formatJson(reports) : formatText(reports));
  return hasCritical(reports) ? EXIT_FINDINGS : EXIT_OK;
});
