// npm run deps: the kit's own list of pins, held to what the real Renovate extracts (offline,
// extract mode) with the repository's renovate.json. The finders and the check are plain
// functions, tested on text; the Renovate runs need `npm run setup -- --renovate`.
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { beforeAll, describe, expect, it } from 'vitest';
import * as toolVersions from '../scripts/lib/setup/tool-versions.ts';
import { checkPins, depRows, formatProblems, type DepRow } from '../scripts/lib/deps/check.ts';
import { basePins, findPins, TOOL_VERSIONS_FILE, toolVersionPins, workflowPins, type Pin } from '../scripts/lib/deps/pins.ts';
import { findRenovate } from '../scripts/lib/tools/renovate.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { describeWithRenovate } from './helpers/renovate.ts';
import { runScript, type CommandOutput } from './helpers/run.ts';
import { useSuiteTempDirs, useTempDirs } from './helpers/tmp.ts';
import { asCommandError } from './helpers/user-error.ts';

const tempDir = useTempDirs();
const row = (file: string, dependency: string, version: string, manager: string, digest?: string): DepRow => ({ file, dependency, version, manager, ...(digest ? { digest } : {}), key: digest ?? version.replace(/^(go|v)/, '') });

describe('the pins the kit writes', () => {
  it('tool-versions.ts: every version in a string, none in a comment, no address', () => {
    const source = [
      "// bump with kustomize v9.9.9 in mind",
      "export const A = { module: 'example.com/a', version: 'v1.2.3', why: 'serves 127.0.0.1 only' };",
      "/* v8.8.8 */ export const B = { ldflags: '-X example.com/b/common.version=3.6.1', toolchain: 'go1.27.3' };",
    ].join('\n');
    expect(toolVersionPins('t.ts', source).map((p) => [p.line, p.text, p.key])).toEqual([
      [2, 'v1.2.3', '1.2.3'],
      [3, '3.6.1', '3.6.1'],
      [3, 'go1.27.3', '1.27.3'],
    ]);
  });

  it('tool-versions.ts as shipped: each version its exports hold is a pin the finder sees', () => {
    const found = new Set(findPins(REPO_ROOT).filter((p) => p.file === TOOL_VERSIONS_FILE).map((p) => p.key));
    const versions: string[] = [];
    const walk = (value: unknown, key = ''): void => {
      if (typeof value === 'string' && /^(version|stagingVersion|toolchain|KUBERNETES_CONTROL_PLANE_VERSION)$/.test(key)) versions.push(value);
      else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
    };
    for (const [name, value] of Object.entries(toolVersions)) walk(value, name);
    expect(versions.length).toBeGreaterThan(15);
    for (const v of versions) expect(found, v).toContain(v.replace(/^(go|v)/, ''));
  });

  it('a workflow: actions by commit SHA with the version beside it, the runner image, the setup versions', () => {
    const source = ['jobs:', '  t:', '    runs-on: ubuntu-24.04', '    steps:', `      - uses: actions/checkout@${'a'.repeat(40)} # v5.0.0`, '        with:', '          go-version: "1.26"', '      - uses: ./local-action'].join('\n');
    expect(workflowPins('w.yml', source).map((p) => [p.line, p.text, p.key])).toEqual([
      [3, '24.04', '24.04'],
      [5, `actions/checkout@${'a'.repeat(40)} # v5.0.0`, 'a'.repeat(40)],
      [7, '1.26', '1.26'],
    ]);
  });

  it('base/: the image tag, the version label and the $schema release; prose citing a version is not a pin', () => {
    const source = ['# yaml-language-server: $schema=https://raw.githubusercontent.com/yannh/kubernetes-json-schema/master/v1.37.0-standalone-strict/all.json', '# The EMQX 5.8.9 broker', '      app.kubernetes.io/version: "5.8.9"', 'images:', '  - name: emqx/emqx', '    newTag: "5.8.9"'].join('\n');
    expect(basePins('base/k.yaml', source).map((p) => [p.line, p.key])).toEqual([
      [1, '1.37.0'],
      [3, '5.8.9'],
      [6, '5.8.9'],
    ]);
  });
});

describe('the check', () => {
  const pin = (file: string, line: number, text: string): Pin => ({ file, line, text, key: text.replace(/^(go|v)/, '') });

  it('names each pin Renovate did not extract, by file and line, with the fix', () => {
    // tool-versions.ts writes v1.9.6 twice and Renovate sees it once: the second is the one left.
    const pins = [pin(TOOL_VERSIONS_FILE, 10, 'v1.9.6'), pin(TOOL_VERSIONS_FILE, 20, 'v1.9.6'), pin('base/kustomization.yaml', 31, '5.8.9')];
    const rows = [row(TOOL_VERSIONS_FILE, 'github.com/fluxcd/source-controller', 'v1.9.6', 'regex'), row('base/kustomization.yaml', 'emqx/emqx', '5.8.9', 'kustomize'), row('base/other.yaml', 'x', 'v1.9.6', 'regex')];
    const problems = checkPins(pins, rows);
    expect(problems.map((p) => [p.pin.file, p.pin.line, p.problem])).toEqual([[TOOL_VERSIONS_FILE, 20, 'not-extracted']]);
    expect(formatProblems(problems)).toContain(`${TOOL_VERSIONS_FILE}:20: v1.9.6: Renovate does not extract this pin`);
    expect(formatProblems(problems)).toContain("Fix: write the pin as a `module: '<Go module>', version: 'v<x.y.z>'` entry");
  });

  it('a pin extracted twice in its file fails too, naming both managers', () => {
    const problems = checkPins([pin('base/kustomization.yaml', 39, '5.8.9')], [row('base/kustomization.yaml', 'emqx/emqx', '5.8.9', 'kustomize'), row('base/kustomization.yaml', 'emqx/emqx', '5.8.9', 'regex')]);
    expect(problems.map((p) => p.problem)).toEqual(['extracted-twice']);
    expect(formatProblems(problems)).toContain('base/kustomization.yaml:39: 5.8.9: extracted 2 times where the file writes it once (kustomize emqx/emqx, regex emqx/emqx)');
  });

  it('reads Renovate report rows: digest pins keyed by the digest, versions without v', () => {
    const rows = depRows({
      problems: [],
      repositories: { local: { packageFiles: { 'github-actions': [{ packageFile: 'ci.yml', deps: [{ depName: 'actions/checkout', currentValue: 'v5.0.0', currentDigest: 'abc' }] }], regex: [{ packageFile: 't.ts', deps: [{ depName: 'go', currentValue: '1.27.3' }] }] } } },
    });
    expect(rows.map((r) => [r.file, r.dependency, r.key, r.manager])).toEqual([
      ['ci.yml', 'actions/checkout', 'abc', 'github-actions'],
      ['t.ts', 'go', '1.27.3', 'regex'],
    ]);
  });

  it('without Renovate installed: exit 2, the set-up command, no stack trace', async () => {
    const dir = await tempDir();
    const error = await asCommandError(() => findRenovate(dir));
    expect(error.exitCode).toBe(2);
    expect(error.stderr).toContain('error: Renovate is not installed in');
    expect(error.stderr).toContain('npm run setup -- --renovate');
  });
});

/** The table's rows as printed: file, dependency, current version, manager. */
function printedRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '' && !l.startsWith('deps: '))
    .map((l) => l.split(/\s{2,}/));
}

/** A repository with the files the check reads, as `edit` leaves them; committed, as Renovate reads what git tracks. */
async function fixtureRepo(dir: string, edit: (repo: string) => Promise<void>): Promise<string> {
  for (const rel of ['renovate.json', TOOL_VERSIONS_FILE, '.github/workflows', 'base']) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await cp(path.join(REPO_ROOT, rel), path.join(dir, rel), { recursive: true });
  }
  await edit(dir);
  const git = $({ cwd: dir, quiet: true });
  await git`git init -q -b main`;
  await git`git add -A`;
  await git`git -c user.name=t -c user.email=t@example.com commit -q -m fixture`;
  return dir;
}

describeWithRenovate('npm run deps with the real Renovate', () => {
  const suiteDir = useSuiteTempDirs();
  let shipped: CommandOutput;
  let unmatched: CommandOutput;
  let invalid: CommandOutput;
  let addedLine: number;

  beforeAll(async () => {
    // A pin no manager matches, added to tool-versions.ts; and an option renovate.json does not have.
    const withPin = await fixtureRepo(await suiteDir(), async (repo) => {
      const file = path.join(repo, TOOL_VERSIONS_FILE);
      const source = (await readFile(file, 'utf8')).replace(/\n$/, '');
      addedLine = source.split('\n').length + 1;
      await writeFile(file, `${source}\nexport const HELM_VERSION = 'v3.19.0';\n`);
    });
    const withBadConfig = await fixtureRepo(await suiteDir(), async (repo) => {
      const config = JSON.parse(await readFile(path.join(repo, 'renovate.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(path.join(repo, 'renovate.json'), `${JSON.stringify({ ...config, automergeEverything: true }, null, 2)}\n`);
    });
    [shipped, unmatched, invalid] = await Promise.all([runScript('deps.ts', ['--check']), runScript('deps.ts', ['--check', '--root', withPin]), runScript('deps.ts', ['--root', withBadConfig])]);
  }, 300_000);

  it('--check passes on this repository: every pin extracted once', () => {
    expect(shipped.stderr).toBe('');
    expect(shipped.exitCode).toBe(0);
    expect(shipped.stdout).toMatch(/^deps: Renovate \d+\.\d+\.\d+ extracted \d+ dependencies in [\d.]+ s; \d+ pins in tool-versions\.ts, the workflows and base\/: each extracted once$/m);
  });

  it('the table lists each pin exactly once per place it is written: image, label, every tool and module, every action', () => {
    const rows = printedRows(shipped.stdout);
    expect(rows[0]).toHaveLength(4);
    const count = (file: string, dependency: string, version: string) => rows.filter((r) => r[0] === file && r[1] === dependency && r[2]!.startsWith(version)).length;
    // The image and its version label: two places, one row each.
    expect(rows.filter((r) => r[0] === 'base/kustomization.yaml').map((r) => `${r[1]} ${r[2]} ${r[3]}`)).toEqual(['emqx/emqx 5.8.9 kustomize', 'emqx/emqx 5.8.9 regex']);
    // Every tool and module of tool-versions.ts, as many times as the file writes its version.
    const pins = findPins(REPO_ROOT);
    const toolRows = rows.filter((r) => r[0] === TOOL_VERSIONS_FILE);
    expect(toolRows).toHaveLength(pins.filter((p) => p.file === TOOL_VERSIONS_FILE).length);
    for (const tool of [...toolVersions.PINNED_TOOLS, ...toolVersions.CONTROL_PLANE_TOOLS]) expect(count(TOOL_VERSIONS_FILE, tool.module, tool.version), tool.module).toBe(1);
    expect(count(TOOL_VERSIONS_FILE, 'k8s.io/kubernetes', toolVersions.KUBERNETES_CONTROL_PLANE_VERSION)).toBe(2); // the schemas' release and the control plane
    expect(count(TOOL_VERSIONS_FILE, 'go', '1.27.3')).toBe(1);
    // Every action, by its commit SHA with the version beside it, once per `uses:`.
    const actions = pins.filter((x) => x.file.startsWith('.github/workflows/') && x.text.includes('@'));
    expect(actions.length).toBeGreaterThan(5);
    for (const p of actions) {
      // Renovate names an action by its repository: github/codeql-action for .../upload-sarif.
      const [, name, sha, version] = /^([\w.-]+\/[\w.-]+)[^@]*@(\w+) # (\S+)$/.exec(p.text)!;
      const uses = pins.filter((x) => x.file === p.file && x.key === sha).length;
      expect(rows.filter((r) => r[0] === p.file && r[1] === name && r[2] === `${version} @ ${sha!.slice(0, 12)}`), p.text).toHaveLength(uses);
    }
  });

  it('--check fails on a pin no manager extracts, naming the file, the line and the fix: exit 1', () => {
    expect(unmatched.exitCode).toBe(1);
    expect(unmatched.stderr).toBe(`${TOOL_VERSIONS_FILE}:${addedLine}: v3.19.0: Renovate does not extract this pin, so nothing would ever bump it.\n  Fix: write the pin as a \`module: '<Go module>', version: 'v<x.y.z>'\` entry, which renovate.json's tool-versions manager reads, or add a custom regex manager for how it is written (docs/deps.md).\n`);
    expect(unmatched.stdout).toMatch(/: 1 not extracted exactly once$/m);
  });

  it('an invalid renovate.json is refused with its validator message, not read as "no dependencies": exit 1', () => {
    expect(invalid.exitCode).toBe(1);
    expect(invalid.stdout).toBe('');
    expect(invalid.stderr).toMatch(/^renovate\.json: Renovate's validator refuses it, and with it Renovate extracts nothing:\n[\s\S]*Invalid configuration option: automergeEverything/);
    expect(invalid.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a directory that is not a git checkout with exit 2 and the usage', async () => {
    const out = await runScript('deps.ts', ['--root', await tempDir()]);
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toMatch(/is not a git checkout: Renovate reads the files git tracks there/);
    expect(out.stderr).toContain('usage: npm run deps');
  });
});
