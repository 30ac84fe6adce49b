// `npm run build`: what a user sees, and what is (not) left on disk.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { describe, expect, it } from 'vitest';
import { listOverlays } from '../scripts/lib/model/overlays.ts';
import { listDefaultTargets } from '../scripts/lib/model/select-overlays.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { parseObjects } from './helpers/render.ts';
import { runScript } from './helpers/run.ts';
import { useTempDirs } from './helpers/tmp.ts';

const tempDir = useTempDirs();
const BASE = path.join(REPO_ROOT, 'base');

/** An overlay outside the repository that builds on the repository's base. */
async function writeOverlay(root: string, name: string, kustomization: string, files: Record<string, string> = {}): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'kustomization.yaml'), kustomization);
  for (const [file, content] of Object.entries(files)) await writeFile(path.join(dir, file), content);
  return dir;
}

describe('npm run build', () => {
  it('renders every overlay and every fleet cluster directory into rendered/<name>.yaml', async () => {
    const out = await tempDir();
    const result = await runScript('build.ts', ['--out', out]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(listDefaultTargets().map((o) => `${o.name}.yaml`).sort());
    expect(listOverlays().map((o) => o.name)).toEqual(expect.arrayContaining(['deployment-ip', 'single-node', 'statefulset-hostname-pvc']));
    const objects = parseObjects(await readFile(path.join(out, 'deployment-ip.yaml'), 'utf8'));
    expect(objects.map((o) => o.kind)).toContain('Deployment');
    expect(result.stdout).toMatch(/^overlays\/deployment-ip -> .*deployment-ip\.yaml \(\d+ objects\)$/m);
  });

  it('renders an OVERLAY_DIR outside the repository', async () => {
    const root = await tempDir();
    const dir = await writeOverlay(root, 'edge-site', `resources:\n  - ${path.relative(path.join(root, 'edge-site'), BASE)}\nnamespace: edge\n`);
    const out = path.join(root, 'out');
    const result = await runScript('build.ts', ['--out', out, dir]);
    expect(result.exitCode, result.stderr).toBe(0);
    const objects = parseObjects(await readFile(path.join(out, 'edge-site.yaml'), 'utf8'));
    expect(objects.every((o) => o.metadata.namespace === 'edge')).toBe(true);
  });

  it('prints nothing but results with npm run --silent', async () => {
    const out = await tempDir();
    const result = await $({ quiet: true, nothrow: true, cwd: REPO_ROOT })`npm run --silent build -- --out ${out}`;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(listDefaultTargets().length);
    for (const line of lines) expect(line).toMatch(/^(overlays|clusters)\/[\w-]+ -> .+\.yaml \(\d+ objects\)$/);
  });

  it('names the overlay and the file when a YAML file has a tab, exits 1 and writes nothing', async () => {
    const root = await tempDir();
    const good = await writeOverlay(root, 'good', `resources:\n  - ${path.relative(path.join(root, 'good'), BASE)}\n`);
    const bad = await writeOverlay(root, 'tabbed', 'resources:\n  - configmap.yaml\n', {
      'configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: broken\n',
    });
    const out = path.join(root, 'out');
    const result = await runScript('build.ts', ['--out', out, good, bad]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('overlay tabbed');
    expect(result.stderr).toContain('configmap.yaml');
    expect(result.stderr).toMatch(/tab/i);
    expect(result.stderr).not.toMatch(/\n\s+at .+\.(ts|js):\d+/); // no stack trace
    expect(existsSync(out)).toBe(false); // not even the overlay that rendered
  });

  it('explains that kustomize wants relative paths', async () => {
    const root = await tempDir();
    const dir = await writeOverlay(root, 'absolute', `resources:\n  - ${BASE}\n`);
    const result = await runScript('build.ts', ['--out', path.join(root, 'out'), dir]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('overlay absolute');
    expect(result.stderr).toMatch(/fix: kustomize does not accept absolute paths/);
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

    const unknown = await runScript('build.ts', ['--outt', root]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--outt'");
  });

  it('names the broken kustomization.yaml itself, which kustomize does not', async () => {
    const root = await tempDir();
    const dir = await writeOverlay(root, 'nested', 'resources:\n  - sub\n');
    await mkdir(path.join(dir, 'sub'));
    await writeFile(path.join(dir, 'sub', 'kustomization.yaml'), 'resources:\n\t- x.yaml\n');
    const result = await runScript('build.ts', ['--out', path.join(root, 'out'), dir]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`Replace the tabs in ${path.join(dir, 'sub', 'kustomization.yaml')}`);
  });

  it('refuses an --out it cannot write before rendering anything, with exit 2 and no stack trace', async () => {
    const root = await tempDir();
    const file = path.join(root, 'a-file');
    await writeFile(file, 'x');
    for (const [out, why] of [
      [file, 'exists and is not a directory'],
      [path.join(file, 'below'), `${file} is a file, not a directory`],
    ] as const) {
      const result = await runScript('build.ts', ['--out', out]);
      expect(result.exitCode, out).toBe(2);
      expect(result.stderr).toContain(`--out ${out}: ${why}`);
      expect(result.stderr).not.toContain('internal error');
    }
  });

  it('refuses two overlays that would write the same file', async () => {
    const root = await tempDir();
    const a = await writeOverlay(path.join(root, 'a'), 'edge', 'resources: []\n');
    const b = await writeOverlay(path.join(root, 'b'), 'edge', 'resources: []\n');
    const result = await runScript('build.ts', ['--out', root, a, b]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('share the name "edge"');
  });
});
