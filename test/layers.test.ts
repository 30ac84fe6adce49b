// A file's folder is its layer, and imports run one way, from a higher layer to a lower one:
//
//   command   scripts/*.ts: thin, parse the command line and print
//   feature   scripts/lib/<any other folder>/: validate, verify, diff, e2e, fleet, gitops, ...
//   model     scripts/lib/model/: what is rendered and what it means (render, overlays, EMQX settings)
//   tools     scripts/lib/tools/: one wrapper per tool the commands run (kustomize, kubeconform,
//             kube-score, kubectl, git, git's HTTP server, control-plane/ for etcd, kube-apiserver, kwok)
//   setup     scripts/lib/setup/: what the set-up pins, where it installs it and how it builds it
//             (tool-versions, schema-location, setup-tools, setup-control-plane, schemas/, bundle),
//             with Go (go, go-build), which only the set-up runs
//   util      scripts/lib/util/: paths, atomic writes, concurrency, natural sort
//   cli       scripts/lib/cli/: the errors and exit codes every layer throws, option parsing, runMain
//
// Why this order: the wrappers run what the set-up installed, from where it put it, so set-up sits
// below them (kustomize.ts asks setup-tools.ts whether the pinned binary is installed; the control
// plane finds its CRDs where setup-control-plane.ts copied them). Go and go-build are not in tools/
// because nothing but the set-up builds or downloads with Go. cli/ is the lowest because its
// UserError and exit codes are thrown from everywhere, the atomic writer and the wrappers included.
//
// Features do not import one another either, except for the ALLOWED_FEATURE_IMPORTS below, each
// with its reason. A lower layer importing a higher one, an unlisted feature-to-feature import or
// a file directly in scripts/lib/ (which has no layer) fails here, naming the file and the import.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';

const SCRIPTS = path.join(REPO_ROOT, 'scripts');

/** Lowest first. Every layer below the features is a folder of scripts/lib/ of the same name. */
const LAYERS = ['cli', 'util', 'setup', 'tools', 'model', 'feature', 'command'] as const;
type Layer = (typeof LAYERS)[number];
const FOLDER_LAYERS: ReadonlySet<string> = new Set(['cli', 'util', 'setup', 'tools', 'model']);
/** A layer's member, as a violation names it. */
const MEMBER: Readonly<Record<Layer, string>> = { cli: 'a cli module', util: 'a utility', setup: 'a set-up module', tools: 'a tool wrapper', model: 'a model', feature: 'a feature', command: 'a command' };

/** `from -> to` between two features, and why that feature needs the other's work. */
const ALLOWED_FEATURE_IMPORTS: Readonly<Record<string, string>> = {
  'fleet -> gitops': "fleet generate writes the fleet's Argo CD and Flux files with gitops' generators, and a cluster deploys into the namespace gitops gives its overlay",
  'publish -> fleet': "publish pushes the inventory's clusters: it reads clusters/inventory.yaml (names, directories, waves) with fleet's reader rather than a second parser",
  'validate -> report': 'report is the one Finding, and its text, JSON and SARIF formats, that both checking commands print',
  'verify -> report': 'report is the one Finding, and its text, JSON and SARIF formats, that both checking commands print',
};

/** Where a file is: its layer, and for a feature its folder. `relative` is relative to scripts/. */
function placeOf(relative: string): { layer: Layer; feature?: string } {
  const parts = relative.split('/');
  if (parts.length === 1) return { layer: 'command' };
  if (parts[0] !== 'lib') throw new Error(`scripts/${relative} is neither a command nor under scripts/lib`);
  if (parts.length === 2) throw new Error(`scripts/${relative} has no layer: put it in the folder of its layer (${[...FOLDER_LAYERS].join(', ')} or a feature's)`);
  const folder = parts[1]!;
  return FOLDER_LAYERS.has(folder) ? { layer: folder as Layer } : { layer: 'feature', feature: folder };
}

function layerOf(relative: string): Layer {
  return placeOf(relative).layer;
}

/** The relative module specifiers a TypeScript file imports or re-exports, static and dynamic. */
function importsOf(source: string): string[] {
  const specifiers = [
    ...source.matchAll(/^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm),
    ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return [...new Set(specifiers)].filter((s) => s.startsWith('.'));
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

interface LayerViolation {
  readonly file: string;
  readonly imports: string;
  readonly why: string;
}

interface Imports {
  readonly violations: LayerViolation[];
  /** The ALLOWED_FEATURE_IMPORTS some import uses. */
  readonly allowedUsed: Set<string>;
}

/** Every import in scripts/**\/*.ts that goes up a layer or across features without a listed reason. */
function checkImports(root: string = SCRIPTS, allowed: Readonly<Record<string, string>> = ALLOWED_FEATURE_IMPORTS): Imports {
  const violations: LayerViolation[] = [];
  const allowedUsed = new Set<string>();
  for (const file of tsFiles(root)) {
    const from = path.relative(root, file).split(path.sep).join('/');
    const a = placeOf(from);
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      const target = path.relative(root, path.resolve(path.dirname(file), specifier)).split(path.sep).join('/');
      if (target.startsWith('..')) continue; // outside scripts/ (none today)
      const b = placeOf(target);
      const violation = (why: string) => violations.push({ file: `scripts/${from}`, imports: specifier, why });
      if (LAYERS.indexOf(b.layer) > LAYERS.indexOf(a.layer)) {
        violation(`${MEMBER[a.layer]} imports ${MEMBER[b.layer]} (scripts/${target})`);
      } else if (a.feature && b.feature && a.feature !== b.feature) {
        const edge = `${a.feature} -> ${b.feature}`;
        if (edge in allowed) allowedUsed.add(edge);
        else violation(`feature ${a.feature} imports feature ${b.feature} (scripts/${target}), which ALLOWED_FEATURE_IMPORTS does not list`);
      }
    }
  }
  return { violations, allowedUsed };
}

function layerViolations(root: string = SCRIPTS): LayerViolation[] {
  return checkImports(root).violations;
}


/** A scripts/ tree in a temporary folder, for `files` (path relative to scripts/ -> source). */
async function withTree<T>(files: Readonly<Record<string, string>>, body: (root: string) => T): Promise<T> {
  const { mkdtemp, mkdir, rm, writeFile } = await import('node:fs/promises');
  const os = await import('node:os');
  const root = await mkdtemp(path.join(os.tmpdir(), 'emqx-layers-'));
  try {
    for (const [file, source] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), source);
    }
    return body(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

describe('layering', () => {
  it('places files in their layer by their folder alone', () => {
    expect(layerOf('validate.ts')).toBe('command');
    expect(layerOf('lib/validate/run.ts')).toBe('feature');
    expect(layerOf('lib/validate/rules/emqx-tls.ts')).toBe('feature');
    expect(placeOf('lib/validate/rules/emqx-tls.ts').feature).toBe('validate');
    expect(layerOf('lib/model/object.ts')).toBe('model');
    expect(layerOf('lib/model/render.ts')).toBe('model');
    expect(layerOf('lib/tools/kustomize.ts')).toBe('tools');
    expect(layerOf('lib/tools/control-plane/start.ts')).toBe('tools');
    expect(layerOf('lib/setup/tool-versions.ts')).toBe('setup');
    expect(layerOf('lib/setup/schemas/strict.ts')).toBe('setup');
    expect(layerOf('lib/util/paths.ts')).toBe('util');
    expect(layerOf('lib/cli/errors.ts')).toBe('cli');
    expect(() => layerOf('lib/kustomize.ts')).toThrow(/scripts\/lib\/kustomize.ts has no layer/);
    expect(() => layerOf('other/x.ts')).toThrow(/neither a command nor under scripts\/lib/);
  });

  it('reads static, type-only, re-export and dynamic imports', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from '../b.ts';",
      "export { c } from './c.ts';",
      "export * from './d.ts';",
      "import './e.ts';",
      "const f = await import('./f.ts');",
      "import { g } from 'zx/core';",
      'import {',
      '  h,',
      "} from './h.ts';",
    ].join('\n');
    expect(importsOf(source).sort()).toEqual(['../b.ts', './a.ts', './c.ts', './d.ts', './e.ts', './f.ts', './h.ts']);
  });

  it('finds a lower layer importing a higher one, naming the file and the import', async () => {
    const tree = {
      'lib/validate/run.ts': 'export const x = 1;\n',
      'lib/model/object.ts': "import { x } from '../validate/run.ts';\n",
      'lib/tools/kustomize.ts': "import type { K } from '../model/object.ts';\n",
      'lib/util/paths.ts': "import { k } from '../tools/kustomize.ts';\n",
      'lib/setup/tool-versions.ts': "import { t } from '../tools/kustomize.ts';\n",
      'lib/cli/errors.ts': "import { p } from '../util/paths.ts';\n",
      // Downward, all of them: no violation.
      'lib/tools/kubectl.ts': "import { v } from '../setup/tool-versions.ts';\nimport { p } from '../util/paths.ts';\n",
      'lib/model/render.ts': "import { k } from '../tools/kustomize.ts';\n",
      'build.ts': "import { x } from './lib/validate/run.ts';\n",
    };
    const violations = await withTree(tree, (root) => layerViolations(root));
    expect(violations).toEqual(
      expect.arrayContaining([
        { file: 'scripts/lib/model/object.ts', imports: '../validate/run.ts', why: 'a model imports a feature (scripts/lib/validate/run.ts)' },
        { file: 'scripts/lib/tools/kustomize.ts', imports: '../model/object.ts', why: 'a tool wrapper imports a model (scripts/lib/model/object.ts)' },
        { file: 'scripts/lib/util/paths.ts', imports: '../tools/kustomize.ts', why: 'a utility imports a tool wrapper (scripts/lib/tools/kustomize.ts)' },
        { file: 'scripts/lib/setup/tool-versions.ts', imports: '../tools/kustomize.ts', why: 'a set-up module imports a tool wrapper (scripts/lib/tools/kustomize.ts)' },
        { file: 'scripts/lib/cli/errors.ts', imports: '../util/paths.ts', why: 'a cli module imports a utility (scripts/lib/util/paths.ts)' },
      ]),
    );
    expect(violations).toHaveLength(5);
  });

  it('finds a feature importing another one that the allow-list does not list, and lets a listed one pass', async () => {
    const tree = {
      'lib/verify/run.ts': 'export const v = 1;\n',
      'lib/diff/server.ts': "import { v } from '../verify/run.ts';\n",
      'lib/gitops/flux.ts': 'export const g = 1;\n',
      'lib/fleet/inventory.ts': "import { g } from '../gitops/flux.ts';\n",
      // Within one feature, from a sub-folder: allowed.
      'lib/validate/rules/emqx-tls.ts': "import { r } from '../run.ts';\n",
      'lib/validate/run.ts': 'export const r = 1;\n',
    };
    const { violations, allowedUsed } = await withTree(tree, (root) => checkImports(root));
    expect(violations).toEqual([
      {
        file: 'scripts/lib/diff/server.ts',
        imports: '../verify/run.ts',
        why: 'feature diff imports feature verify (scripts/lib/verify/run.ts), which ALLOWED_FEATURE_IMPORTS does not list',
      },
    ]);
    expect([...allowedUsed]).toEqual(['fleet -> gitops']);
    // The same listed import fails once its entry is gone.
    const without = await withTree(tree, (root) => checkImports(root, {}).violations.map((v) => v.file));
    expect(without.sort()).toEqual(['scripts/lib/diff/server.ts', 'scripts/lib/fleet/inventory.ts']);
  });

  it('finds a file directly in scripts/lib/, which has no layer', async () => {
    await expect(withTree({ 'lib/kustomize.ts': 'export const k = 1;\n' }, (root) => layerViolations(root))).rejects.toThrow(/scripts\/lib\/kustomize.ts has no layer/);
  });

  it('holds in scripts/: commands -> features -> model -> tools -> setup -> util -> cli', () => {
    const lines = layerViolations().map((v) => `${v.file} imports ${v.imports}: ${v.why}`);
    expect(lines, lines.join('\n')).toEqual([]);
  });

  it('lists only feature-to-feature imports that exist, each with a reason', () => {
    const { allowedUsed } = checkImports();
    expect(Object.keys(ALLOWED_FEATURE_IMPORTS).filter((edge) => !allowedUsed.has(edge)), 'stale entries').toEqual([]);
    for (const [edge, why] of Object.entries(ALLOWED_FEATURE_IMPORTS)) expect(why.length, edge).toBeGreaterThan(20);
  });
});
