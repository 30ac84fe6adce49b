// The README stays true: its commands exist and do what it says, and what it promises holds.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { emqxContainer } from './helpers/pod.ts';
import { renderRepoOverlays } from './helpers/render.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';

const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const ciRun = readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8');
const scripts = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** Every line of every ```sh block, continuation lines joined. */
const shellCommands = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
  m[1]!
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#')),
);
const inlineCommands = [...readme.matchAll(/`((?:npm|kubectl|flux|git) [^`]+)`/g)].map((m) => m[1]!);

let overlays: Map<string, K8sObject[]>;
beforeAll(async () => {
  overlays = await renderRepoOverlays();
});

describe('README', () => {
  it('has the two-command quick start, and CI runs exactly those commands', () => {
    const quickStart = /## Quick start\n+```sh\n([\s\S]*?)```/.exec(readme)?.[1]?.trim().split('\n');
    expect(quickStart).toEqual(['npm ci && npm run build', 'npm test']);
    // `step` only times a command (.ci/run).
    expect(ciRun).toMatch(/^(?:step )?npm ci$/m);
    expect(ciRun).toMatch(/^(?:step )?npm run build$/m);
    expect(ciRun).toMatch(/^npm test\b/m);
  });

  it('names only npm scripts that exist', () => {
    const named = [...shellCommands, ...inlineCommands].flatMap((c) => [...c.matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((m) => m[1]!));
    expect(named.length).toBeGreaterThan(3);
    for (const script of named) expect(scripts, `npm run ${script}`).toHaveProperty(script);
  });

  it('points kubectl -k and paths at directories that exist', () => {
    const targets = [...shellCommands, ...inlineCommands].flatMap((c) => [...c.matchAll(/(?:apply|kustomize|build) -k (\S+)|kubectl kustomize (\S+)/g)].map((m) => m[1] ?? m[2]!));
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(existsSync(path.join(REPO_ROOT, target)), target).toBe(true);
  });

  it('creates the Secret with exactly the keys the pods read, in the overlay’s namespace, with random values', () => {
    const create = shellCommands.find((c) => c.includes('create secret generic'));
    expect(create).toBeDefined();
    const [, namespace, name] = /kubectl -n (\S+) create secret generic (\S+)/.exec(create!)!;
    const keys = [...create!.matchAll(/--from-literal=([\w-]+)="\$\(openssl rand [^)]+\)"/g)].map((m) => m[1]);
    const objects = overlays.get(namespace!.replace(/^emqx-/, ''))!;
    expect(objects, `no overlay for namespace ${namespace}`).toBeDefined();
    const referenced = (emqxContainer(objects).env ?? []).flatMap((e) => {
      const ref = e.valueFrom?.secretKeyRef;
      return ref && ref.name === name ? [ref.key] : [];
    });
    expect(keys.sort()).toEqual(referenced.sort());
    expect(objects.every((o) => o.metadata.namespace === namespace)).toBe(true);
  });

  it('lists every overlay in the overlay table, and nothing that is not one', () => {
    const table = /## Overlays\n+([\s\S]*?)\n\n/.exec(readme)![1]!;
    const rows = [...table.matchAll(/^\| `([\w-]+)` \|/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual([...overlays.keys()].sort());
  });

  it('gives the replicas the overlays really run', () => {
    for (const [name, objects] of overlays) {
      const row = new RegExp(`^\\| \`${name}\` \\|.*\\| (\\d+) \\|[^|]*\\|$`, 'm').exec(readme);
      const workload = objects.find((o) => o.kind === 'StatefulSet' || o.kind === 'Deployment') as unknown as { kind: string; spec: { replicas: number } };
      expect(row?.[1], name).toBe(String(workload.spec.replicas));
      expect(new RegExp(`^\\| \`${name}\` \\| ${workload.kind} \\|`, 'm').test(readme), `${name} workload`).toBe(true);
    }
  });
});

describe('README commands', () => {
  const tests = readdirSync(path.join(REPO_ROOT, 'test'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => readFileSync(path.join(REPO_ROOT, 'test', f), 'utf8'))
    .join('\n');

  it('are each run by CI (.ci/run) or by a test', () => {
    const named = new Set([...readme.matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((m) => m[1]!));
    for (const script of named) {
      const inCi = new RegExp(`npm run (--silent )?${script}\\b`).test(ciRun);
      const file = scripts[script]?.match(/scripts\/run\.mjs (\w+)|(scripts\/[\w-]+\.ts)/);
      const inTest = file ? tests.includes(`'${(file[1] ?? file[2]!.replace('scripts/', '').replace('.ts', ''))}.ts'`) || tests.includes(`npm run --silent ${script}`) : false;
      expect(inCi || inTest, `npm run ${script} is neither in .ci/run nor in a test`).toBe(true);
    }
  });
});

/** Every file under `dir` whose name ends with `ext`. */
function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => path.relative(REPO_ROOT, path.join(e.parentPath, e.name)));
}

/** A heading quoted in a comment may run onto the next comment line. */
const unwrap = (quoted: string) => quoted.replace(/\s*\n\s*(?:\/\/|\*|#)?\s*/g, ' ');

describe('references to README sections', () => {
  it('name headings that exist', () => {
    const headings = new Set([...readme.matchAll(/^#{2,3} (.+)$/gm)].map((m) => m[1]!.trim()));
    // The scripts too: a message or a rule's fix that cites a section sends the user there.
    const files = ['base/emqx.env', 'base/kustomization.yaml', 'validate.config.yaml', ...filesUnder('scripts', '.ts'), ...readdirSync(path.join(REPO_ROOT, 'overlays')).map((o) => `overlays/${o}/kustomization.yaml`)];
    let checked = 0;
    for (const file of files) {
      for (const [, heading] of readFileSync(path.join(REPO_ROOT, file), 'utf8').matchAll(/README, "([^"]+)"/g)) {
        const wrapped = unwrap(heading!);
        expect(headings.has(wrapped), `${file} refers to README section "${wrapped}"`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3);
  });

  it('and those to docs/*.md sections too', () => {
    let checked = 0;
    for (const file of filesUnder('scripts', '.ts')) {
      for (const [, doc, heading] of readFileSync(path.join(REPO_ROOT, file), 'utf8').matchAll(/(docs\/[\w-]+\.md),? \(?"([^"]+)"/g)) {
        const text = readFileSync(path.join(REPO_ROOT, doc!), 'utf8');
        const headings = new Set([...text.matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1]!.trim()));
        const wrapped = unwrap(heading!);
        expect(headings.has(wrapped), `${file} refers to ${doc} section "${wrapped}"`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3);
  });
});
