// npm run diff -- --base REF [--head REF] [--merge-base] [--format markdown|text|json] [--out FILE] [--exit-code] [--server] [OVERLAY_DIR ...]
// Shows, per overlay, which Kubernetes objects a merge adds, removes or changes, and warns about
// changes Argo CD or Flux cannot apply or that lose data. The base side renders in a temporary git
// worktree; the user's checkout is never touched.
import path from 'node:path';
import { assertWritable, writeFileAtomic } from './lib/util/atomic-write.ts';
import { formatOption, parseCommandLine } from './lib/cli/cli.ts';
import { formatJson } from './lib/diff/format-json.ts';
import { formatMarkdown } from './lib/diff/format-markdown.ts';
import { formatText } from './lib/diff/format-text.ts';
import { runDiff } from './lib/diff/run.ts';
import type { ServerCheckSettings } from './lib/diff/server.ts';
import { hasChanges, type DiffReport } from './lib/diff/types.ts';
import { EXIT_FINDINGS, EXIT_OK, UsageError } from './lib/cli/errors.ts';
import { namespaceLabels } from './lib/gitops/flux.ts';
import { describeKustomize, findKustomize } from './lib/tools/kustomize.ts';
import { runMain } from './lib/cli/main.ts';
import { loadValidateConfig } from './lib/validate/config.ts';

const USAGE = `usage: npm run diff -- --base REF [--head REF] [--merge-base] [--format markdown|text|json] [--out FILE] [--exit-code] [--server] [OVERLAY_DIR ...]

Renders every overlay (or each OVERLAY_DIR) at REF and at the head, and shows which objects are
added, removed or changed, with warnings for changes that fail on sync or lose data.

  --base REF      the side to compare against (branch, tag or commit)
  --head REF      the other side (default: the working tree, uncommitted changes included)
  --merge-base    compare against the merge base of --base and the head, as a pull request does
  --format F      text (default), markdown (a pull request comment, kept under 65,536 characters)
                  or json
  --out FILE      also write the full, untruncated output to FILE
  --exit-code     exit 1 when anything changed (as git diff --exit-code does)
  --server        also ask a real API server: apply the base of each changed overlay to an
                  ephemeral control plane and dry-run the head on it; each rejection is a warning
                  (needs \`npm run setup -- --control-plane\` once)

Secret values are never shown: only which keys were added, removed or changed.

exit codes: 0 done (changes or not), 1 changes with --exit-code, or an overlay fails to render at
the head; 2 usage or tool error`;

// The first is the default. A list, not the keys of an object: `'toString' in {…}` is true.
const FORMATS = ['text', 'markdown', 'json'] as const;
type Format = (typeof FORMATS)[number];

function format(report: DiffReport, name: Format, full: boolean): string {
  if (name === 'markdown') return formatMarkdown(report, full ? { limit: Number.POSITIVE_INFINITY } : {});
  return name === 'json' ? formatJson(report) : formatText(report);
}

/** What `--server` creates beside each render: the GitOps manifests' namespace, the outside-git Secrets. */
function serverSettings(): ServerCheckSettings {
  return { secrets: loadValidateConfig().externalSecrets, namespaceLabels, log: (line) => process.stderr.write(`diff --server: ${line}\n`) };
}

await runMain(async () => {
  const { values, positionals } = parseCommandLine(
    process.argv.slice(2),
    {
      base: { type: 'string' },
      head: { type: 'string' },
      'merge-base': { type: 'boolean' },
      format: { type: 'string' },
      out: { type: 'string' },
      'exit-code': { type: 'boolean' },
      server: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  if (!values.base) throw new UsageError('--base REF is required (e.g. --base origin/main).', USAGE);
  const formatName = formatOption(values.format, FORMATS, USAGE);

  if (values.out) await assertWritable(values.out, 'file', '--out');
  const kustomize = await findKustomize();
  const warning = describeKustomize(kustomize);
  if (warning) process.stderr.write(`${warning}\n`);

  const report = await runDiff({
    cwd: process.cwd(),
    base: values.base,
    ...(values.head ? { head: values.head } : {}),
    mergeBase: values['merge-base'] ?? false,
    overlayArgs: positionals,
    kustomize,
    ...(values.server ? { server: serverSettings() } : {}),
  });
  process.stdout.write(format(report, formatName, false));
  if (values.out) await writeFileAtomic(path.resolve(values.out), format(report, formatName, true));

  const broken = report.overlays.filter((o) => o.failures.some((f) => f.side === 'head'));
  if (broken.length > 0) {
    process.stderr.write(`${broken.length} overlay(s) fail to render at the head: ${broken.map((o) => o.name).join(', ')}.\n`);
    return EXIT_FINDINGS;
  }
  return values['exit-code'] && hasChanges(report) ? EXIT_FINDINGS : EXIT_OK;
});
