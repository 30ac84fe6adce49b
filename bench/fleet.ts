// npm run bench:fleet
// A fleet: 60 and 200 cluster directories (clusters/site-N/, each with its own files, built on the
// real overlays, all with the same object ids), timed against plain sequential `kustomize build` of
// the same directories in the same run. Goals, in wall-clock time: build <= 0.3x, validate <= 0.4x,
// diff after a base change <= 0.5x of twice the sequential time (the diff renders both sides).
// Beside them the CPU time of both sides, which other load on the machine disturbs less. Then the
// peak memory of each command (node, the largest kustomize, the whole process tree at once, and
// how many kustomize processes ran at once), at 60 and at 200 clusters: flat is the goal. The
// commands run as `npm run` runs them after the set-up (the bundled commands, see
// scripts/lib/setup/bundle.ts; bundled afresh into a temporary folder when .tools/dist is older than the
// sources), from the fixture repository. BENCH_RUNS (default 1) runs each that many times and
// keeps the best; BENCH_FLEET_SIZES (default 60,200) picks the fleet sizes.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { build as esbuild } from 'esbuild';
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import { REPO_ROOT, TOOLS_DIR, TOOLS_DIST } from '../scripts/lib/util/paths.ts';
import { formatTable, generateFleet } from './lib/fixtures.ts';
import { measure, type Measured } from './lib/rss.ts';

const kustomize = await findKustomize();
const runs = Number(process.env.BENCH_RUNS ?? 1);
const COMMANDS = ['build', 'validate', 'diff'] as const;

/** The bundle scripts/run.mjs would start, if it is fresh (the same check). */
function freshBundle(command: string): string | undefined {
  const bundle = path.join(TOOLS_DIST, `${command}.mjs`);
  const manifest = path.join(TOOLS_DIST, `${command}.json`);
  if (!existsSync(bundle) || !existsSync(manifest)) return undefined;
  try {
    const { inputs } = JSON.parse(readFileSync(manifest, 'utf8')) as { inputs: Record<string, number> };
    return Object.entries(inputs).every(([file, mtime]) => statSync(path.join(REPO_ROOT, file)).mtimeMs === mtime) ? bundle : undefined;
  } catch {
    return undefined;
  }
}

const privateDist = COMMANDS.every((c) => freshBundle(c)) ? undefined : await mkdtemp(path.join(TOOLS_DIR, 'bench-dist-'));
const entry: Record<string, string> = {};
for (const command of COMMANDS) {
  entry[command] = privateDist ? path.join(privateDist, `${command}.mjs`) : freshBundle(command)!;
  if (privateDist) {
    await esbuild({ entryPoints: [path.join(REPO_ROOT, 'scripts', `${command}.ts`)], outfile: entry[command], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'silent' });
  }
}
const counts = (process.env.BENCH_FLEET_SIZES ?? '60,200').split(',').map(Number);
const rows: string[][] = [];
const memory: string[][] = [];

async function best(argv: readonly string[], cwd: string, okCodes: readonly number[] = [0]): Promise<Measured> {
  let result: Measured | undefined;
  for (let i = 0; i < runs; i++) {
    const r = await measure(argv, cwd, okCodes);
    if (!result || r.ms < result.ms) result = r;
  }
  return result!;
}

const ratio = (ms: number, floor: number) => `${(ms / floor).toFixed(2)}x`;
const mib = (n: number) => `${n.toFixed(0)} MiB`;

try {
  for (const count of counts) {
    const fleet = await generateFleet(count);
    try {
      const dirs = fleet.clusters.map((c) => path.relative(fleet.root, c.dir));
      const node = (command: (typeof COMMANDS)[number]) => [process.execPath, entry[command]!];
      // Once untimed, so that neither side pays for a cold file cache.
      await measure([...node('build'), '--out', path.join(fleet.root, 'rendered-warm-up'), ...dirs], fleet.root);
      // The floor: one plain `kustomize build` per directory, one after the other.
      const loop = 'n=$1; shift; pre=("${@:1:$n}"); shift "$n"; for d in "$@"; do "${pre[@]}" "$d" > /dev/null || exit 1; done';
      const sequential = await best(['bash', '-c', loop, 'bash', String(kustomize.build.length), ...kustomize.build, ...dirs], fleet.root);
      const build = await best([...node('build'), '--out', path.join(fleet.root, 'rendered'), ...dirs], fleet.root, [0]);
      // validate exits 1 on findings; 2 would mean it did not run.
      const validate = await best([...node('validate'), '--format', 'json', ...dirs], fleet.root, [0, 1]);
      const findings = JSON.parse(validate.stdout) as unknown; // a crash prints no JSON
      if (!Array.isArray(findings) && (findings === null || typeof findings !== 'object')) throw new Error('validate printed no report');
      const env = path.join(fleet.root, 'base', 'emqx.env');
      await writeFile(env, `${await readFile(env, 'utf8')}EMQX_CLUSTER__AUTOCLEAN=12h\n`);
      const diff = await best([...node('diff'), '--base', 'HEAD', '--format', 'markdown', ...dirs], fleet.root, [0]);
      await $({ cwd: fleet.root, quiet: true })`git checkout -q -- base`;
      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      const row = (label: string, r: Measured, times: number, goal: string) => [
        String(count),
        label,
        `${times === 2 ? '2 x ' : ''}${s(sequential.ms)}`,
        s(r.ms),
        ratio(r.ms, times * sequential.ms),
        goal,
        `${s(r.cpuMs)} / ${times === 2 ? '2 x ' : ''}${s(sequential.cpuMs)} = ${ratio(r.cpuMs, times * sequential.cpuMs)}`,
      ];
      rows.push(row('build', build, 1, '<= 0.3x'), row('validate', validate, 1, '<= 0.4x'), row('diff (base changed)', diff, 2, '<= 0.5x'));
      for (const [label, r] of [['build', build], ['validate', validate], ['diff', diff]] as const) {
        memory.push([String(count), label, mib(r.peak.nodeMiB), mib(r.peak.kustomizeMiB), String(r.peak.kustomizeAtOnce), mib(r.peak.totalMiB)]);
      }
      process.stdout.write(`${count} clusters done\n`);
    } finally {
      await fleet.cleanup();
    }
  }
} finally {
  if (privateDist) await rm(privateDist, { recursive: true, force: true });
}
console.log(`\nfleet: clusters/site-N on the real overlays, identical object ids; kustomize ${kustomize.version}, ${os.availableParallelism()} cores, best of ${runs} run(s); commands ${privateDist ? 'bundled for this run (.tools/dist is older than the sources)' : 'from .tools/dist'}`);
console.log(formatTable(['clusters', 'command', 'sequential kustomize build', 'command', 'ratio', 'goal', 'CPU time: command / sequential'], rows));
console.log('\npeak memory (RSS, sampled from /proc)');
console.log(formatTable(['clusters', 'command', 'node', 'largest kustomize', 'kustomize at once', 'whole tree at once'], memory));
