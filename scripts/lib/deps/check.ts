// What Renovate extracted, as rows of one table, and the check that holds it to the kit's pins
// (pins.ts): every pin extracted exactly once where it is written. Twice is a fault too: two
// managers would open two pull requests for the same line, which then conflict.
import type { RenovateReport } from '../tools/renovate.ts';
import { versionKey, type Pin } from './pins.ts';

export interface DepRow {
  readonly file: string;
  readonly dependency: string;
  /** The version as Renovate read it; for a digest pin, the version in the comment beside it. */
  readonly version: string;
  readonly digest?: string;
  /** `github-actions`, `kustomize`, `npm`, `regex` (a custom manager of renovate.json), ... */
  readonly manager: string;
  readonly datasource?: string;
  /** What a pin's `key` is compared with: the digest if there is one, else the version without `v`/`go`. */
  readonly key: string;
}

/** The report's dependencies, one row each, in the order Renovate lists files and their dependencies. */
export function depRows(report: RenovateReport): DepRow[] {
  const rows: DepRow[] = [];
  for (const repository of Object.values(report.repositories ?? {})) {
    for (const [manager, files] of Object.entries(repository.packageFiles ?? {})) {
      for (const file of files) {
        for (const dep of file.deps) {
          const version = dep.currentValue ?? '';
          rows.push({
            file: file.packageFile,
            dependency: dep.depName ?? dep.packageName ?? '(unnamed)',
            version,
            ...(dep.currentDigest ? { digest: dep.currentDigest } : {}),
            manager,
            ...(dep.datasource ? { datasource: dep.datasource } : {}),
            key: dep.currentDigest ?? versionKey(version),
          });
        }
      }
    }
  }
  return rows.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

export interface PinProblem {
  readonly pin: Pin;
  readonly problem: 'not-extracted' | 'extracted-twice';
  /** For `extracted-twice`: the rows that claim it, and how often the file writes that version. */
  readonly rows?: readonly DepRow[];
  readonly written?: number;
}

/**
 * Pairs pins with rows by file and key. Where a file writes a version n times, Renovate must list
 * it n times there: fewer leaves the last pins of that version unseen, more means it is extracted twice.
 */
export function checkPins(pins: readonly Pin[], rows: readonly DepRow[]): PinProblem[] {
  const groupBy = <T>(items: readonly T[], key: (t: T) => string) => {
    const map = new Map<string, T[]>();
    for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
    return map;
  };
  const rowsByKey = groupBy(rows, (r) => `${r.file}\u0000${r.key}`);
  const problems: PinProblem[] = [];
  for (const [key, written] of groupBy(pins, (p) => `${p.file}\u0000${p.key}`)) {
    const found = rowsByKey.get(key) ?? [];
    written.slice(found.length).forEach((pin) => problems.push({ pin, problem: 'not-extracted' }));
    if (found.length > written.length) problems.push({ pin: written[0]!, problem: 'extracted-twice', rows: found, written: written.length });
  }
  return problems.sort((a, b) => (a.pin.file === b.pin.file ? a.pin.line - b.pin.line : a.pin.file < b.pin.file ? -1 : 1));
}

const FIX: Readonly<Record<string, string>> = {
  'scripts/lib/setup/tool-versions.ts': "write the pin as a `module: '<Go module>', version: 'v<x.y.z>'` entry, which renovate.json's tool-versions manager reads, or add a custom regex manager for how it is written",
  '.github/workflows': 'write it as `uses: owner/repo@<commit sha> # v<version>`, which the github-actions manager reads',
  base: 'add a custom regex manager for it to renovate.json, grouped with the image (group EMQX) if it must move with it',
};

function fixFor(file: string): string {
  const match = Object.keys(FIX).find((prefix) => file === prefix || file.startsWith(`${prefix}/`));
  return match ? FIX[match]! : 'add a custom regex manager for it to renovate.json';
}

/** One paragraph per problem: where, what, and the fix (docs/deps.md). */
export function formatProblems(problems: readonly PinProblem[]): string {
  return problems
    .map(({ pin, problem, rows, written }) =>
      problem === 'not-extracted'
        ? `${pin.file}:${pin.line}: ${pin.text}: Renovate does not extract this pin, so nothing would ever bump it.\n  Fix: ${fixFor(pin.file)} (docs/deps.md).`
        : `${pin.file}:${pin.line}: ${pin.text}: extracted ${rows!.length} times where the file writes it ${written === 1 ? 'once' : `${written} times`} (${rows!.map((r) => `${r.manager} ${r.dependency}`).join(', ')}); two managers would open conflicting pull requests.\n  Fix: narrow one manager's matchStrings or managerFilePatterns in renovate.json (docs/deps.md).`,
    )
    .join('\n');
}

/** The table `npm run deps` prints: file, dependency, current version (and digest), manager. */
export function formatTable(rows: readonly DepRow[]): string {
  const cells = [['FILE', 'DEPENDENCY', 'CURRENT', 'MANAGER'], ...rows.map((r) => [r.file, r.dependency, r.digest ? `${r.version} @ ${r.digest.slice(0, 12)}` : r.version, r.manager])];
  const widths = [0, 1, 2].map((i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd()).join('\n');
}
