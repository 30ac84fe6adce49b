// The pull request comment: summary table, warnings, then one collapsible section per overlay.
// GitHub rejects a comment over 65,536 characters, so object diffs are cut whole, in order, once
// the budget is spent; the comment says what was left out and where the full diff is.
import { describeId } from './objects.ts';
import { countChanges, type DiffReport, type DiffWarning, type ObjectChange, type OverlayDiff } from './types.ts';

/** GitHub's limit for an issue or pull request comment. */
export const GITHUB_COMMENT_LIMIT = 65_536;
/** The hidden line the workflow finds its own comment by, to edit it in place. */
export const COMMENT_MARKER = '<!-- emqx-gitops:pr-diff -->';

export interface MarkdownOptions {
  /** Maximum length of the whole comment. Default: GitHub's limit less room for the workflow's footer. */
  readonly limit?: number;
  /** Where the full diff is, for the note on what was left out. */
  readonly fullDiffHint?: string;
}

const DEFAULT_LIMIT = GITHUB_COMMENT_LIMIT - 1_536;
const DEFAULT_HINT = 'the full diff is attached to the workflow run as the `pr-diff` artifact (`npm run diff` prints it locally)';

/** A fence longer than any backtick run inside, so a diff can never close its own code block. */
function fence(body: string, info: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${info}\n${body.endsWith('\n') ? body : `${body}\n`}${ticks}`;
}

function inline(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;');
}

const MAX_PATHS = 8;

export function summarizePaths(change: ObjectChange): string {
  const parts: string[] = [];
  if (change.previousName) parts.push(`renamed from ${inline(change.previousName)} (new hash suffix)`);
  if (change.secretKeys && change.secretKeys.length > 0) {
    parts.push(`keys ${change.secretKeys.map((k) => `${k.key} ${k.change}`).join(', ')} (values hidden)`);
  }
  const paths = change.paths.filter((p) => !change.secretKeys || !/^(data|stringData)\b/.test(p));
  if (paths.length > 0) {
    const shown = paths.slice(0, MAX_PATHS).join(', ');
    parts.push(paths.length > MAX_PATHS ? `${shown} and ${paths.length - MAX_PATHS} more` : shown);
  }
  return parts.join('; ');
}

function objectBlock(change: ObjectChange): string {
  const summary = summarizePaths(change);
  const head = `**${change.change}** ${inline(describeId(change.id))}${summary ? `: ${summary}` : ''}`;
  return `${head}\n\n${fence(change.diff, 'diff')}\n`;
}

function statusCell(o: OverlayDiff): string {
  switch (o.status) {
    case 'added':
      return 'new overlay';
    case 'removed':
      return 'overlay removed';
    case 'failed':
      return 'render failed';
    case 'unchanged':
      return o.notRendered ? 'unchanged (inputs not modified)' : 'unchanged';
    default:
      return 'changed';
  }
}

function summaryTable(report: DiffReport): string {
  const rows = report.overlays.map((o) => {
    const c = countChanges(o);
    return `| ${escapeCell(o.name)} | ${statusCell(o)} | ${c.added} | ${c.removed} | ${c.changed} | ${o.warnings.length ? `⚠️ ${o.warnings.length}` : '0'} |`;
  });
  return ['| Overlay | Status | Added | Removed | Changed | Warnings |', '|---|---|---:|---:|---:|---:|', ...rows].join('\n');
}

export function warningLine(w: DiffWarning): string {
  return `- **${w.overlay}** · ${inline(w.object)} · \`${w.rule}\`: ${w.message}\n  **Way through:** ${w.remedy}`;
}

function header(report: DiffReport): string {
  const head = report.head.commit ? `${report.head.ref} (${report.head.commit.slice(0, 12)})` : report.head.ref;
  return `${COMMENT_MARKER}\n## Rendered manifests diff\n\nBase ${inline(`${report.base.ref} (${report.base.commit.slice(0, 12)})`)} → head ${inline(head)}.`;
}

function failuresBlock(o: OverlayDiff): string {
  return o.failures.map((f) => `**${f.side} failed to render:**\n\n${fence(f.message, 'text')}\n`).join('\n');
}

interface Budget {
  remaining: number;
  readonly omitted: Array<{ overlay: string; change: ObjectChange }>;
}

function overlaySection(o: OverlayDiff, budget: Budget): string | undefined {
  if (o.status === 'unchanged' && o.failures.length === 0) return undefined;
  const c = countChanges(o);
  const parts: string[] = [];
  if (o.failures.length > 0) parts.push(failuresBlock(o));
  const left: ObjectChange[] = [];
  for (const change of o.changes) {
    const block = objectBlock(change);
    if (block.length + 2 <= budget.remaining) {
      parts.push(block);
      budget.remaining -= block.length + 2;
    } else {
      left.push(change);
      budget.omitted.push({ overlay: o.name, change });
    }
  }
  if (left.length > 0) {
    const names = left.slice(0, 20).map((ch) => `${inline(describeId(ch.id))} (${ch.change})`);
    parts.push(`_Left out to fit the comment limit: ${names.join(', ')}${left.length > 20 ? ` and ${left.length - 20} more` : ''}._\n`);
  }
  const summary = `<b>${escapeCell(o.name)}</b> (${o.dir}): ${statusCell(o)}, ${c.added} added, ${c.removed} removed, ${c.changed} changed`;
  return `<details><summary>${summary}</summary>\n\n${parts.join('\n')}\n</details>`;
}

function render(report: DiffReport, objectBudget: number, hint: string, maxWarnings: number): { text: string; omitted: number } {
  const warnings = report.overlays.flatMap((o) => o.warnings);
  const parts = [header(report), summaryTable(report)];
  if (warnings.length > 0) {
    const shown = warnings.slice(0, maxWarnings).map(warningLine);
    if (warnings.length > maxWarnings) shown.push(`- … and ${warnings.length - maxWarnings} more warnings: ${hint}.`);
    parts.push(`### ⚠️ Warnings\n\n${shown.join('\n')}`);
  } else if (report.overlays.some((o) => o.changes.length > 0)) {
    parts.push('No change here needs special handling on sync.');
  }
  const budget: Budget = { remaining: objectBudget, omitted: [] };
  const sections = report.overlays.map((o) => overlaySection(o, budget)).filter((s): s is string => s !== undefined);
  if (sections.length > 0) parts.push(`### Changes by overlay\n\n${sections.join('\n\n')}`);
  else parts.push('No overlay renders differently.');
  if (budget.omitted.length > 0) parts.push(`> [!NOTE]\n> ${budget.omitted.length} object diffs were left out to stay under GitHub's comment limit: ${hint}.`);
  return { text: `${parts.join('\n\n')}\n`, omitted: budget.omitted.length };
}

/** The comment, at most `limit` characters, cutting whole object diffs only. */
export function formatMarkdown(report: DiffReport, options: MarkdownOptions = {}): string {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const hint = options.fullDiffHint ?? DEFAULT_HINT;
  const full = render(report, Number.POSITIVE_INFINITY, hint, Number.POSITIVE_INFINITY);
  if (full.text.length <= limit) return full.text;
  // Shrink the budget for object diffs until the fixed parts and the "left out" notes fit too.
  let maxWarnings = 50;
  let objectBudget = limit;
  for (let attempt = 0; attempt < 20; attempt++) {
    const { text } = render(report, objectBudget, hint, maxWarnings);
    if (text.length <= limit) return text;
    objectBudget = Math.max(0, objectBudget - (text.length - limit) - 512);
    if (objectBudget === 0) maxWarnings = Math.max(5, Math.floor(maxWarnings / 2));
  }
  const fallback = `${header(report)}\n\nThe diff is too large for a comment: ${hint}.\n`;
  return fallback;
}
