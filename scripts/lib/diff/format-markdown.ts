// The pull request comment: how many targets change, a summary table, warnings, the changes that
// several targets share (once each, with the list of targets), then one collapsible section per
// target for what only it has. GitHub rejects a comment over 65,536 characters, so object diffs
// are cut whole, in order, once the budget is spent; the comment says what was left out and where
// the full diff is.
import { byWave, groupReport, isChanging, leavesInventory, listTargets, rolloutSentence, sameIn, sharedView, type FleetView, type WarningGroup } from './group.ts';
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

function objectBlock(change: ObjectChange, shared = false): string {
  const view = shared ? sharedView(change) : { object: describeId(change.id), diff: change.diff, ...(change.previousName ? { previousName: change.previousName } : {}) };
  const summary = summarizePaths({ ...change, ...(view.previousName ? { previousName: view.previousName } : {}) });
  const head = `**${change.change}** ${inline(view.object)}${summary ? `: ${summary}` : ''}`;
  return `${head}\n\n${fence(view.diff, 'diff')}\n`;
}

function statusCell(o: OverlayDiff): string {
  const what = o.dir.startsWith('clusters/') ? 'cluster' : 'overlay';
  if (leavesInventory(o)) return o.status === 'changed' ? 'changed, removed from the inventory' : 'removed from the inventory';
  switch (o.status) {
    case 'added':
      return `new ${what}`;
    case 'removed':
      return `${what} removed`;
    case 'failed':
      return 'render failed';
    case 'unchanged':
      return o.notRendered ? 'unchanged (inputs not modified)' : 'unchanged';
    default:
      return 'changed';
  }
}

/** Above this many targets, rows that read the same are one row listing the targets. */
const TABLE_ROWS = 20;
/** Names listed per group before "and N more". */
const MAX_NAMES = 100;

/** A fleet with waves lists its clusters wave by wave, in the order a change reaches them. */
function summaryTable(view: FleetView): string {
  const withWaves = view.waves.length > 0;
  const cells = (o: OverlayDiff) => {
    const c = countChanges(o);
    return `${withWaves ? `${o.wave ?? ''} | ` : ''}${statusCell(o)} | ${c.added} | ${c.removed} | ${c.changed} | ${o.warnings.length ? `⚠️ ${o.warnings.length}` : '0'}`;
  };
  const first = view.noun === 'clusters' ? 'Cluster' : view.noun === 'overlays' ? 'Overlay' : 'Target';
  const header = withWaves
    ? [`| ${first} | Wave | Status | Added | Removed | Changed | Warnings |`, '|---|---:|---|---:|---:|---:|---:|']
    : [`| ${first} | Status | Added | Removed | Changed | Warnings |`, '|---|---|---:|---:|---:|---:|'];
  const targets = byWave(view.targets);
  if (targets.length <= TABLE_ROWS) return [...header, ...targets.map((o) => `| ${escapeCell(o.name)} | ${cells(o)} |`)].join('\n');
  const rows = new Map<string, string[]>();
  for (const o of targets) rows.set(cells(o), [...(rows.get(cells(o)) ?? []), o.name]);
  const lines = [...rows.entries()].map(([row, names]) => `| ${escapeCell(names.length > 1 ? `${listTargets(names, Number.NaN, MAX_NAMES)} (${names.length})` : names[0]!)} | ${row} |`);
  return [...header, ...lines].join('\n');
}

function summaryLine(view: FleetView): string {
  const total = view.targets.length;
  const by = (status: OverlayDiff['status']) => view.targets.filter((t) => isChanging(t) && t.status === status && !leavesInventory(t)).length;
  const leaving = view.targets.filter(leavesInventory).length;
  const parts = [`${by('changed')} changed`, `${by('added')} added`, `${by('removed')} removed`, `${leaving} removed from the inventory`, `${by('failed')} failed to render`].filter((p) => !p.startsWith('0 '));
  return `**${view.changing.length} of ${total} ${view.noun} change**${parts.length ? ` (${parts.join(', ')})` : ''}; ${total - view.changing.length} unchanged.`;
}

export function warningLine(w: DiffWarning): string {
  return `- **${w.overlay}** · ${inline(w.object)} · \`${w.rule}\`: ${w.message}\n  **Way through:** ${w.remedy}`;
}

function warningGroupLine(g: WarningGroup, view: FleetView): string {
  if (g.targets.length === 1) return warningLine(g.warning);
  const w = g.warning;
  const who = `${sameIn('warning', g.targets.length, view.targets.length, view.noun)}: ${listTargets(g.targets, view.targets.length, MAX_NAMES)}`;
  return `- **${who}** · ${inline(w.object)} · \`${w.rule}\`: ${w.message}\n  **Way through:** ${w.remedy}`;
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
  /** Targets none of whose own diffs fit: named once in the closing note instead of a section each. */
  readonly omittedTargets: string[];
}

/** Object blocks until the budget is spent, then one line naming the rest. */
function blocks(changes: readonly ObjectChange[], where: string, shared: boolean, budget: Budget, note?: (change: ObjectChange) => string | undefined): string[] {
  const parts: string[] = [];
  const left: ObjectChange[] = [];
  for (const change of changes) {
    const extra = note?.(change);
    const block = extra ? `${objectBlock(change, shared)}\n${extra}\n` : objectBlock(change, shared);
    if (block.length + 2 <= budget.remaining) {
      parts.push(block);
      budget.remaining -= block.length + 2;
    } else {
      left.push(change);
      budget.omitted.push({ overlay: where, change });
    }
  }
  if (left.length > 0) {
    const names = left.slice(0, 20).map((ch) => `${inline(shared ? sharedView(ch).object : describeId(ch.id))} (${ch.change})`);
    parts.push(`_Left out to fit the comment limit: ${names.join(', ')}${left.length > 20 ? ` and ${left.length - 20} more` : ''}._\n`);
  }
  return parts;
}

function sharedSection(view: FleetView, budget: Budget): string | undefined {
  if (view.shared.length === 0) return undefined;
  const total = view.targets.length;
  const sections = view.shared.map((g) => {
    const title = `${sameIn(g.changes.length === 1 ? 'change' : 'changes', g.targets.length, total, view.noun)}: ${listTargets(g.targets, total, MAX_NAMES)}`;
    const context = (c: ObjectChange) => (g.contextVaries.has(c) ? `_The unchanged lines around it are ${escapeCell(g.targets[0]!)}'s; they differ in the others._` : undefined);
    const parts = blocks(g.changes, `${g.targets.length} ${view.noun}`, true, budget, context);
    return `<details open><summary><b>${escapeCell(title)}</b> (${g.changes.length} object${g.changes.length === 1 ? '' : 's'})</summary>\n\n${parts.join('\n')}\n</details>`;
  });
  const hashes = view.shared.some((g) => g.changes.some((c) => c.withoutHashes)) ? '_Generated names are shown with `<hash>` for their hash suffix, which can differ from one target to the next._\n\n' : '';
  return `### Changes shared by several ${view.noun}\n\n${hashes}${sections.join('\n\n')}`;
}

function targetSection(o: OverlayDiff, view: FleetView, budget: Budget): string | undefined {
  if (!isChanging(o)) return undefined;
  const own = view.own.get(o.name) ?? [];
  const sharedCount = o.changes.length - own.length;
  // A target whose every change is shown above needs no section of its own (the table counts it).
  if (own.length === 0 && o.failures.length === 0 && (o.status === 'changed' || sharedCount > 0 || o.changes.length === 0)) return undefined;
  const c = countChanges(o);
  const parts: string[] = [];
  if (o.failures.length > 0) parts.push(failuresBlock(o));
  const before = budget.omitted.length;
  const shown = blocks(own, o.name, false, budget);
  if (o.failures.length === 0 && own.length > 0 && budget.omitted.length - before === own.length) {
    budget.omittedTargets.push(o.name);
    return undefined;
  }
  parts.push(...shown);
  const shared = sharedCount > 0 ? `; ${sharedCount} of them shared, shown above` : '';
  const summary = `<b>${escapeCell(o.name)}</b> (${o.dir}): ${statusCell(o)}, ${c.added} added, ${c.removed} removed, ${c.changed} changed${shared}`;
  return `<details><summary>${summary}</summary>\n\n${parts.join('\n')}\n</details>`;
}

function render(report: DiffReport, view: FleetView, objectBudget: number, hint: string, maxWarnings: number): { text: string; omitted: number } {
  const rollout = rolloutSentence(view);
  const parts = [header(report), rollout ? `${summaryLine(view)} ${rollout}` : summaryLine(view), summaryTable(view)];
  if (view.warnings.length > 0) {
    const shown = view.warnings.slice(0, maxWarnings).map((g) => warningGroupLine(g, view));
    if (view.warnings.length > maxWarnings) shown.push(`- … and ${view.warnings.length - maxWarnings} more warnings: ${hint}.`);
    parts.push(`### ⚠️ Warnings\n\n${shown.join('\n')}`);
  } else if (report.overlays.some((o) => o.changes.length > 0)) {
    parts.push('No change here needs special handling on sync.');
  }
  const budget: Budget = { remaining: objectBudget, omitted: [], omittedTargets: [] };
  const shared = sharedSection(view, budget);
  if (shared) parts.push(shared);
  // Wave by wave, under a heading per wave, when the fleet has waves.
  const sections: string[] = [];
  let wave: number | undefined;
  for (const o of byWave(view.targets)) {
    const section = targetSection(o, view, budget);
    if (section === undefined) continue;
    if (view.waves.length > 0 && o.wave !== wave) sections.push(o.wave === undefined ? '#### Not in a wave' : `#### Wave ${o.wave}`);
    wave = o.wave;
    sections.push(section);
  }
  const singular = view.noun === 'clusters' ? 'cluster' : view.noun === 'overlays' ? 'overlay' : 'target';
  if (sections.length > 0) parts.push(`### Changes by ${singular}\n\n${sections.join('\n\n')}`);
  else if (!shared) parts.push(`No ${singular} renders differently.`);
  if (budget.omittedTargets.length > 0) {
    parts.push(`_Left out to fit the comment limit, every diff of its own for ${budget.omittedTargets.length} ${view.noun} (the table counts them): ${listTargets(budget.omittedTargets, Number.NaN, MAX_NAMES)}._`);
  }
  if (budget.omitted.length > 0) parts.push(`> [!NOTE]\n> ${budget.omitted.length} object diffs were left out to stay under GitHub's comment limit: ${hint}.`);
  return { text: `${parts.join('\n\n')}\n`, omitted: budget.omitted.length };
}

/** The comment, at most `limit` characters, cutting whole object diffs only. */
export function formatMarkdown(report: DiffReport, options: MarkdownOptions = {}): string {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const hint = options.fullDiffHint ?? DEFAULT_HINT;
  const view = groupReport(report);
  const full = render(report, view, Number.POSITIVE_INFINITY, hint, Number.POSITIVE_INFINITY);
  if (full.text.length <= limit) return full.text;
  // Shrink the budget for object diffs until the fixed parts and the "left out" notes fit too.
  let maxWarnings = 50;
  let objectBudget = limit;
  for (let attempt = 0; attempt < 20; attempt++) {
    const { text } = render(report, view, objectBudget, hint, maxWarnings);
    if (text.length <= limit) return text;
    objectBudget = Math.max(0, objectBudget - (text.length - limit) - 512);
    if (objectBudget === 0) maxWarnings = Math.max(5, Math.floor(maxWarnings / 2));
  }
  const rollout = rolloutSentence(view);
  const fallback = `${header(report)}\n\n${summaryLine(view)}${rollout ? ` ${rollout}` : ''}\n\nThe diff is too large for a comment: ${hint}.\n`;
  return fallback;
}
