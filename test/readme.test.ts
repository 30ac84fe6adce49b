// The README and docs/ stay true: their commands exist and do what they say, what they promise
// holds, every heading a file cites exists, and the README stays a front door.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { emqxContainer } from './helpers/pod.ts';
import { renderRepoOverlays } from './helpers/render.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';

const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const DOCS = readdirSync(path.join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
/** The README and every document of docs/, by path. */
const pages = new Map(['README.md', ...DOCS].map((f) => [f, readFileSync(path.join(REPO_ROOT, f), 'utf8')] as const));
const overlaysDoc = pages.get('docs/overlays.md')!;
const ciRun = readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8');
const scripts = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** Every line of every ```sh block of the README and docs/, continuation lines joined. */
const shellCommands = [...[...pages.values()].join('\n').matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
  m[1]!
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#')),
);
const inlineCommands = [...[...pages.values()].join('\n').matchAll(/`((?:npm|kubectl|flux|git) [^`]+)`/g)].map((m) => m[1]!);

let overlays: Map<string, K8sObject[]>;
beforeAll(async () => {
  overlays = await renderRepoOverlays();
});

describe('README and docs/', () => {
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
    const create = shellCommands.find((c) => c.includes('create secret generic') && c.includes('emqx-statefulset-hostname-pvc'));
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

  it('lists every overlay in the overlay table of docs/overlays.md, and nothing that is not one', () => {
    const table = /## The overlay table\n+([\s\S]*?)\n\n/.exec(overlaysDoc)![1]!;
    const rows = [...table.matchAll(/^\| `([\w-]+)` \|/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual([...overlays.keys()].sort());
  });

  it('gives the replicas the overlays really run', () => {
    for (const [name, objects] of overlays) {
      const row = new RegExp(`^\\| \`${name}\` \\|.*\\| (\\d+) \\|[^|]*\\|$`, 'm').exec(overlaysDoc);
      const workload = objects.find((o) => o.kind === 'StatefulSet' || o.kind === 'Deployment') as unknown as { kind: string; spec: { replicas: number } };
      expect(row?.[1], name).toBe(String(workload.spec.replicas));
      expect(new RegExp(`^\\| \`${name}\` \\| ${workload.kind} \\|`, 'm').test(overlaysDoc), `${name} workload`).toBe(true);
    }
  });
});

describe('the README as a front door', () => {
  it('is at most 150 lines', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(150);
  });

  it('has exactly what a front door has, in this order', () => {
    const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual(['Prerequisites', 'Quick start', 'What is where', 'Commands', 'Exit codes']);
    // The map near the top: the tree and the diagram, before the table of commands.
    const map = readme.indexOf('## What is where');
    expect(readme.indexOf('```text', map)).toBeGreaterThan(map);
    expect(readme.indexOf('```mermaid', map)).toBeGreaterThan(map);
    expect(readme.indexOf('```mermaid', map)).toBeLessThan(readme.indexOf('## Commands'));
  });

  it('names every npm script in its table of commands, one line each, with a link to its document', () => {
    const table = /## Commands\n+([\s\S]*?)\n\n/.exec(readme)![1]!.split('\n').slice(2);
    const listed = new Set(table.flatMap((row) => [...row.split(' | ')[0]!.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!)));
    const userScripts = Object.keys(scripts).filter((s) => s !== 'prepare' && s !== 'typecheck' && s !== 'test');
    for (const script of userScripts) expect(listed, `npm run ${script} in the README's commands`).toContain(script);
    for (const row of table) {
      if (/^\| `npm (ci|test)` \|/.test(row)) continue;
      expect(row, 'a command row links to its document').toMatch(/\]\(docs\/[\w-]+\.md(#[\w-]+)?\)/);
    }
  });
});

describe('README and docs/ commands', () => {
  const tests = readdirSync(path.join(REPO_ROOT, 'test'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => readFileSync(path.join(REPO_ROOT, 'test', f), 'utf8'))
    .join('\n');

  it('are each run by CI (.ci/run) or by a test', () => {
    for (const [page, text] of pages) {
      const named = new Set([...text.matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((m) => m[1]!));
      for (const script of named) {
        const inCi = new RegExp(`npm run (--silent )?${script}\\b`).test(ciRun);
        const file = scripts[script]?.match(/scripts\/run\.mjs (\w+)|((?:scripts|bench)\/[\w-]+\.ts)/);
        const inTest = file ? tests.includes(`'${(file[1] ?? file[2]!.replace(/^(scripts|bench)\//, '').replace('.ts', ''))}.ts'`) || tests.includes(`npm run --silent ${script}`) : false;
        expect(inCi || inTest, `${page}: npm run ${script} is neither in .ci/run nor in a test`).toBe(true);
      }
    }
  });
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function headingsOf(markdown: string): Set<string> {
  // Headings outside fenced blocks only: a `# comment` in a shell block is not one.
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...prose.matchAll(/^#{1,4} (.+)$/gm)].map((m) => m[1]!.trim()));
}

describe('references to sections', () => {
  // Every tracked text file may cite a section of the README or of a docs/ file by its heading in
  // quotes, this one excepted (its examples are not citations).
  const tracked = execFileSync('git', ['ls-files'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f !== 'test/readme.test.ts' && /\.(ts|mjs|ya?ml|md|json|env)$|^\.ci\/run$/.test(f) && existsSync(path.join(REPO_ROOT, f)));

  it('name headings that exist, in the file they name', () => {
    let checked = 0;
    const wrong: string[] = [];
    for (const file of tracked) {
      const text = readFileSync(path.join(REPO_ROOT, file), 'utf8').replace(/\n\s*(?:#|\/\/|\*)?\s*/g, ' ');
      // (README, "H"), the README, "H", docs/x.md, "H" and docs/x.md ("H") alike.
      for (const [, doc, heading] of text.matchAll(/\b(README|docs\/[\w-]+\.md),? \(?"([^"]+)"/g)) {
        const page = pages.get(doc === 'README' ? 'README.md' : doc!);
        if (!page || !headingsOf(page).has(heading!)) wrong.push(`${file} cites ${doc}, "${heading}", which ${page ? 'has no such heading' : 'does not exist'}`);
        checked++;
      }
    }
    expect(wrong).toEqual([]);
    // The overlays, cluster patches, e2e, fleet and rules cite about twenty.
    expect(checked).toBeGreaterThan(20);
  });

  it('link to files and anchors that exist, from the README and docs/', () => {
    let checked = 0;
    const wrong: string[] = [];
    for (const [page, text] of pages) {
      for (const [, target, anchor] of text.matchAll(/\]\(([^)#\s]*)(?:#([^)\s]+))?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue; // https://...
        const file = target ? path.posix.join(path.posix.dirname(page), target) : page;
        if (!existsSync(path.join(REPO_ROOT, file))) wrong.push(`${page} links to ${file}, which does not exist`);
        else if (anchor && !new Set([...headingsOf(pages.get(file) ?? '')].map(anchorOf)).has(anchor)) wrong.push(`${page} links to ${file}#${anchor}, which has no such heading`);
        checked++;
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(10);
  });
});
