// A line-based unified diff (the format of `diff -u` and `git diff`), small enough to own: the
// objects it compares are a few hundred lines, so an LCS over the lines that differ is plenty.

type Op = { readonly tag: ' ' | '-' | '+'; readonly line: string };

/** Above this many cells the LCS table is skipped and the middle shown as one replacement. */
const MAX_TABLE = 4_000_000;

function diffLines(a: readonly string[], b: readonly string[]): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops: Op[] = a.slice(0, start).map((line) => ({ tag: ' ', line }));
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  if (n * m > MAX_TABLE) {
    ops.push(...midA.map((line) => ({ tag: '-' as const, line })), ...midB.map((line) => ({ tag: '+' as const, line })));
  } else {
    // lcs[i][j] = LCS length of midA[i..] and midB[j..].
    const width = m + 1;
    const lcs = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * width + j] = midA[i] === midB[j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && midA[i] === midB[j]) {
        ops.push({ tag: ' ', line: midA[i]! });
        i++;
        j++;
      } else if (j === m || (i < n && lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!)) {
        // Prefer removals first within a change, as git prints them.
        ops.push({ tag: '-', line: midA[i]! });
        i++;
      } else {
        ops.push({ tag: '+', line: midB[j]! });
        j++;
      }
    }
  }
  ops.push(...a.slice(endA).map((line) => ({ tag: ' ' as const, line })));
  return ops;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * The hunks of a unified diff (without the `---`/`+++` header), `context` lines around each change.
 * Empty when the texts are equal.
 */
export function unifiedDiff(before: string, after: string, context = 3): string {
  const ops = diffLines(splitLines(before), splitLines(after));
  const changed = ops.map((op, index) => (op.tag === ' ' ? -1 : index)).filter((index) => index >= 0);
  if (changed.length === 0) return '';
  // Group changes whose context windows touch into one hunk.
  const hunks: Array<{ from: number; to: number }> = [];
  for (const index of changed) {
    const from = Math.max(0, index - context);
    const to = Math.min(ops.length, index + context + 1);
    const last = hunks[hunks.length - 1];
    if (last && from <= last.to) last.to = Math.max(last.to, to);
    else hunks.push({ from, to });
  }
  const out: string[] = [];
  for (const hunk of hunks) {
    let lineA = 1;
    let lineB = 1;
    for (let k = 0; k < hunk.from; k++) {
      if (ops[k]!.tag !== '+') lineA++;
      if (ops[k]!.tag !== '-') lineB++;
    }
    const body = ops.slice(hunk.from, hunk.to);
    const countA = body.filter((op) => op.tag !== '+').length;
    const countB = body.filter((op) => op.tag !== '-').length;
    out.push(`@@ -${countA === 0 ? lineA - 1 : lineA},${countA} +${countB === 0 ? lineB - 1 : lineB},${countB} @@`);
    for (const op of body) out.push(`${op.tag}${op.line}`);
  }
  return `${out.join('\n')}\n`;
}

/** A whole text as added (`+`) or removed (`-`) lines, for objects that exist on one side only. */
export function wholeText(text: string, tag: '+' | '-'): string {
  const lines = splitLines(text);
  if (lines.length === 0) return '';
  const header = tag === '+' ? `@@ -0,0 +1,${lines.length} @@` : `@@ -1,${lines.length} +0,0 @@`;
  return `${[header, ...lines.map((line) => `${tag}${line}`)].join('\n')}\n`;
}
