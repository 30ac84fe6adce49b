// The pins the kit writes, found by the kit itself, so that `npm run deps -- --check` can hold
// Renovate's extraction to them: a version Renovate cannot see never gets a pull request, and
// goes stale without anyone noticing. Each finder reads one kind of file the way its pins are
// written there; prose that cites a version (a comment quoting upstream source at 5.8.9) is not a pin.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One version written in a file. `key` is what Renovate's extraction must match (see `depKey`). */
export interface Pin {
  /** Repository-relative, with forward slashes. */
  readonly file: string;
  readonly line: number;
  /** As written: `v1.9.6`, `go1.27.3`, `5.8.9`, `actions/checkout@08c6903… # v5.0.0`. */
  readonly text: string;
  readonly key: string;
}

export const TOOL_VERSIONS_FILE = 'scripts/lib/setup/tool-versions.ts';
export const WORKFLOWS_DIR = '.github/workflows';
export const BASE_DIR = 'base';

/** A version compared without its `v` or `go` prefix: Renovate's regex managers capture `1.27.3` from `go1.27.3`. */
export function versionKey(version: string): string {
  return version.replace(/^(go|v)/, '');
}

// Not part of a longer dotted number: 127.0.0.1 in a description is an address, not a version.
const VERSION = /(?<![\w.])(?:go|v)?\d+\.\d+\.\d+(?!\.?\d)/g;

/** Blanks out `//` and `/* *\/` comments, keeping every line where it was. Strings are skipped whole. */
function withoutComments(source: string): string {
  return source.replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (m) => (m.startsWith('/') ? m.replace(/[^\n]/g, ' ') : m));
}

/** tool-versions.ts: every version inside a string literal (`'v1.9.6'`, `'go1.27.3'`, `common.version=3.6.1`). */
export function toolVersionPins(file: string, source: string): Pin[] {
  const pins: Pin[] = [];
  withoutComments(source).split('\n').forEach((line, index) => {
    for (const literal of line.matchAll(/'((?:[^'\\]|\\.)*)'/g)) {
      for (const m of literal[1]!.matchAll(VERSION)) pins.push({ file, line: index + 1, text: m[0], key: versionKey(m[0]) });
    }
  });
  return pins;
}

/**
 * A workflow: every `uses: owner/repo@ref` (Renovate keys it by the commit SHA, with the version
 * in the comment beside it), `runs-on: <image>-<version>` and `<tool>-version: <version>` of a setup action.
 */
export function workflowPins(file: string, source: string): Pin[] {
  const pins: Pin[] = [];
  source.split('\n').forEach((line, index) => {
    const at = { file, line: index + 1 };
    const uses = /^\s*(?:-\s+)?uses:\s*([\w.-]+\/[\w./-]+)@([\w.-]+)(\s*#\s*\S+)?/.exec(line);
    if (uses) pins.push({ ...at, text: `${uses[1]}@${uses[2]}${uses[3] ?? ''}`.trim(), key: uses[2]! });
    const runsOn = /^\s*runs-on:\s*['"]?[\w-]+?-(\d+\.\d+)['"]?\s*$/.exec(line);
    if (runsOn) pins.push({ ...at, text: runsOn[1]!, key: runsOn[1]! });
    const setup = /^\s*[\w]+-version:\s*['"]?(\d+(?:\.\d+)*)['"]?\s*$/.exec(line);
    if (setup) pins.push({ ...at, text: setup[1]!, key: setup[1]! });
  });
  return pins;
}

/** base/: the image tag (`newTag`), the version label beside it, and each editor `$schema=` URL's Kubernetes release. */
export function basePins(file: string, source: string): Pin[] {
  const pins: Pin[] = [];
  source.split('\n').forEach((line, index) => {
    const at = { file, line: index + 1 };
    const tag = /^\s*newTag:\s*['"]?([\w.-]+)['"]?\s*$/.exec(line);
    if (tag) pins.push({ ...at, text: tag[1]!, key: versionKey(tag[1]!) });
    const label = /app\.kubernetes\.io\/version:\s*['"]?([\w.-]+)['"]?/.exec(line);
    if (label) pins.push({ ...at, text: label[1]!, key: versionKey(label[1]!) });
    const schema = /\$schema=\S*?\/(v\d+\.\d+\.\d+)-standalone/.exec(line);
    if (schema) pins.push({ ...at, text: schema[1]!, key: versionKey(schema[1]!) });
  });
  return pins;
}

function filesUnder(root: string, dir: string, match: RegExp): string[] {
  let entries;
  try {
    entries = readdirSync(path.join(root, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .flatMap((e) => (e.isDirectory() ? filesUnder(root, `${dir}/${e.name}`, match) : match.test(e.name) ? [`${dir}/${e.name}`] : []))
    .sort();
}

/** Every pin of tool-versions.ts, the workflows and base/ under `root`, in file and line order. */
export function findPins(root: string): Pin[] {
  const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
  return [
    ...toolVersionPins(TOOL_VERSIONS_FILE, read(TOOL_VERSIONS_FILE)),
    ...filesUnder(root, WORKFLOWS_DIR, /\.ya?ml$/).flatMap((f) => workflowPins(f, read(f))),
    ...filesUnder(root, BASE_DIR, /\.ya?ml$/).flatMap((f) => basePins(f, read(f))),
  ];
}
