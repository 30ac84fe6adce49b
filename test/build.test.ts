// `npm run build`: what a user sees, and what is (not) left on disk. The command runs once per exit
// code it promises (0, 1 twice: nothing written, a previous render kept; 2); the other inputs call
// what it calls (selectOverlays, assertWritable, parseCommandLine, renderOverlays) and check the
// same messages through asCommandError.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../scripts/lib/cli/cli.ts';
import { listOverlays } from '../scripts/lib/model/overlays.ts';
import { renderOverlays } from '../scripts/lib/model/render.ts';
import { listDefaultTargets, selectOverlays } from '../scripts/lib/model/select-overlays.ts';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import { assertWritable } from '../scripts/lib/util/atomic-write.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { parseObjects } from './helpers/render.ts';
import { runScript, type CommandOutput } from './helpers/run.ts';
import { useSuiteTempDirs, useTempDirs } from './helpers/tmp.ts';
import { asCommandError } from './helpers/user-error.ts';

const tempDir = useTempDirs();
const BASE = path.join(REPO_ROOT, 'base');
const USAGE = 'usage: npm run build -- [--out DIR] [OVERLAY_DIR ...]';

/** An overlay outside the repository that builds on the repository's base. */
async function writeOverlay(root: string, name: string, kustomization: string, files: Record<string, string> = {}): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'kustomization.yaml'), kustomization);
  for (const [file, content] of Object.entries(files)) await writeFile(path.join(dir, file), content);
  return dir;
}

describe('npm run build', () => {
  describe('on every default target, as `npm run --silent build` (one run)', () => {
    const suiteDir = useSuiteTempDirs();
    let out: string;
    let result: CommandOutput;
    beforeAll(async () => {
      out = await suiteDir();
      result = await $({ quiet: true, nothrow: true, cwd: REPO_ROOT })`npm run --silent build -- --out ${out}`;
    });

    it('renders every overlay and every fleet cluster directory into rendered/<name>.yaml', async () => {
      expect(result.exitCode, result.stderr).toBe(0);
      expect((await readdir(out)).sort()).toEqual(listDefaultTargets().map((o) => `${o.name}.yaml`).sort());
      expect(listOverlays().map((o) => o.name)).toEqual(expect.arrayContaining(['deployment-ip', 'single-node', 'statefulset-hostname-pvc']));
      const objects = parseObjects(await readFile(path.join(out, 'deployment-ip.yaml'), 'utf8'));
      expect(objects.map((o) => o.kind)).toContain('Deployment');
      expect(result.stdout).toMatch(/^overlays\/deployment-ip -> .*deployment-ip\.yaml \(\d+ objects\)$/m);
    });

    it('prints nothing but results with npm run --silent', () => {
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      const lines = result.stdout.trim().split('\n');
      expect(lines).toHaveLength(listDefaultTargets().length);
      for (const line of lines) expect(line).toMatch(/^(overlays|clusters)\/[\w-]+ -> .+\.yaml \(\d+ objects\)$/);
    });
  });

  it('renders an OVERLAY_DIR outside the repository', async () => {
    const root = await tempDir();
    const dir = await writeOverlay(root, 'edge-site', `resources:\n  - ${path.relative(path.join(root, 'edge-site'), BASE)}\nnamespace: edge\n`);
    // What build does with its arguments; the run above shows it writes DIR/<name>.yaml from this.
    const overlays = selectOverlays([dir], USAGE, { writesFiles: true });
    expect(overlays.map((o) => o.name)).toEqual(['edge-site']);
    const { rendered, failures } = await renderOverlays(await findKustomize(), overlays, { batch: true });
    expect(failures).toEqual([]);
    const objects = parseObjects(rendered[0]!.yaml);
    expect(objects.length).toBeGreaterThan(0);
    expect(objects.every((o) => o.metadata.namespace === 'edge')).toBe(true);
  });

  describe('with overlays that fail to render (one run, beside one that renders)', () => {
    const suiteDir = useSuiteTempDirs();
    let root: string;
    let out: string;
    let nested: string;
    let result: CommandOutput;
    beforeAll(async () => {
      root = await suiteDir();
      const good = await writeOverlay(root, 'good', `resources:\n  - ${path.relative(path.join(root, 'good'), BASE)}\n`);
      const tabbed = await writeOverlay(root, 'tabbed', 'resources:\n  - configmap.yaml\n', {
        'configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: broken\n',
      });
      const absolute = await writeOverlay(root, 'absolute', `resources:\n  - ${BASE}\n`);
      nested = await writeOverlay(root, 'nested', 'resources:\n  - sub\n');
      await mkdir(path.join(nested, 'sub'));
      await writeFile(path.join(nested, 'sub', 'kustomization.yaml'), 'resources:\n\t- x.yaml\n');
      out = path.join(root, 'out');
      result = await runScript('build.ts', ['--out', out, good, tabbed, absolute, nested]);
    });

    it('names the overlay and the file when a YAML file has a tab, exits 1 and writes nothing', () => {
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('overlay tabbed');
      expect(result.stderr).toContain('configmap.yaml');
      expect(result.stderr).toMatch(/tab/i);
      expect(result.stderr).not.toMatch(/\n\s+at .+\.(ts|js):\d+/); // no stack trace
      // Each broken overlay failed on its own, the good one rendered, and none was written.
      expect(result.stderr).toContain('3 of 4 overlays failed to render; nothing was written.');
      expect(existsSync(out)).toBe(false); // not even the overlay that rendered
    });

    it('explains that kustomize wants relative paths', () => {
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('overlay absolute');
      expect(result.stderr).toMatch(/fix: kustomize does not accept absolute paths/);
    });

    it('names the broken kustomization.yaml itself, which kustomize does not', () => {
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`Replace the tabs in ${path.join(nested, 'sub', 'kustomization.yaml')}`);
    });
  });

  it('names the overlay and the missing file, and keeps the previous render intact', async () => {
    const root = await tempDir();
    const dir = await writeOverlay(root, 'missing', 'resources:\n  - service.yaml\n');
    const out = path.join(root, 'out');
    await mkdir(out);
    await writeFile(path.join(out, 'missing.yaml'), 'previous: render\n');
    const result = await runScript('build.ts', ['--out', out, dir]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('overlay missing');
    expect(result.stderr).toContain('service.yaml');
    expect(result.stderr).toMatch(/fix: .*does not exist/);
    expect(await readFile(path.join(out, 'missing.yaml'), 'utf8')).toBe('previous: render\n');
    expect((await readdir(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('rejects a directory without kustomization.yaml and an unknown option with exit 2 and the usage', async () => {
    const root = await tempDir();
    const noKustomization = await tempDir();
    const result = await runScript('build.ts', ['--out', root, noKustomization, path.join(root, 'nope')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('holds no kustomization.yaml');
    expect(result.stderr).toContain('does not exist');
    expect(result.stderr).toContain('usage: npm run build');

    // build's options, parsed as scripts/build.ts parses them.
    const unknown = await asCommandError(() => parseCommandLine(['--outt', root], { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, USAGE));
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--outt'");
  });

  it('refuses an --out it cannot write before rendering anything, with exit 2 and no stack trace', async () => {
    const root = await tempDir();
    const file = path.join(root, 'a-file');
    await writeFile(file, 'x');
    for (const [out, why] of [
      [file, 'exists and is not a directory'],
      [path.join(file, 'below'), `${file} is a file, not a directory`],
    ] as const) {
      // build checks --out this way before it renders.
      const result = await asCommandError(() => assertWritable(path.resolve(out), 'directory', '--out'));
      expect(result.exitCode, out).toBe(2);
      expect(result.stderr).toContain(`--out ${out}: ${why}`);
      expect(result.stderr).not.toContain('internal error');
    }
  });

  it('refuses two overlays that would write the same file', async () => {
    const root = await tempDir();
    const a = await writeOverlay(path.join(root, 'a'), 'edge', 'resources: []\n');
    const b = await writeOverlay(path.join(root, 'b'), 'edge', 'resources: []\n');
    const result = await asCommandError(() => selectOverlays([a, b], USAGE, { writesFiles: true }));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('share the name "edge"');
  });
});
