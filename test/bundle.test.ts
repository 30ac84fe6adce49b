// The set-up's command bundles (.tools/dist) and the launcher that picks them or the sources.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { $ } from 'zx';
import { describe, expect, it } from 'vitest';
import { BUNDLED_COMMANDS, type BundleManifest } from '../scripts/lib/setup/bundle.ts';
import { REPO_ROOT, TOOLS_DIST } from '../scripts/lib/util/paths.ts';

describe('command bundles', () => {
  it.each(BUNDLED_COMMANDS)('%s: built by the set-up, from the sources it lists', (command) => {
    const manifestFile = path.join(TOOLS_DIST, `${command}.json`);
    expect(existsSync(manifestFile), `${manifestFile} is missing: run \`npm run setup\``).toBe(true);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BundleManifest;
    expect(manifest.entry).toBe(`scripts/${command}.ts`);
    expect(Object.keys(manifest.inputs)).toEqual(expect.arrayContaining([`scripts/${command}.ts`, 'scripts/lib/util/paths.ts', 'scripts/lib/cli/main.ts']));
    expect(Object.keys(manifest.inputs).every((f) => !f.startsWith('node_modules'))).toBe(true);
  });

  it('run the same command as the sources: the bundle and the fallback print the same usage', async () => {
    const quiet = $({ quiet: true, nothrow: true, cwd: REPO_ROOT });
    const bundled = await quiet`node scripts/run.mjs build --help`;
    const fromSource = await $({ quiet: true, nothrow: true, cwd: REPO_ROOT, env: { ...process.env, EMQX_GITOPS_NO_BUNDLE: '1' } })`node scripts/run.mjs build --help`;
    expect(bundled.exitCode).toBe(0);
    expect(bundled.stdout).toContain('usage: npm run build');
    expect(fromSource.stdout).toBe(bundled.stdout);
  });

  it('refuses a command that does not exist, with exit 2', async () => {
    const out = await $({ quiet: true, nothrow: true, cwd: REPO_ROOT })`node scripts/run.mjs nope`;
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toContain('no scripts/nope.ts');
  });
});
