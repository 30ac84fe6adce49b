// Imports run one way: commands (scripts/*.ts) -> features
// (scripts/lib/<feature>/) -> the model (scripts/lib/model/, render.ts, overlays.ts,
// select-overlays.ts) -> tool wrappers and utilities (every other scripts/lib/*.ts). A lower layer
// importing a higher one fails here, naming the file and the import.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';

const SCRIPTS = path.join(REPO_ROOT, 'scripts');

const LAYERS = ['tool wrapper or utility', 'model', 'feature', 'command'] as const;
type Layer = (typeof LAYERS)[number];

/** The model: what is rendered, shared by every feature. */
const MODEL_FILES = new Set(['lib/render.ts', 'lib/overlays.ts', 'lib/select-overlays.ts']);

/** The layer of a file, by its path relative to scripts/. */
function layerOf(relative: string): Layer {
  const parts = relative.split('/');
  if (parts.length === 1) return 'command';
  if (parts[0] !== 'lib') throw new Error(`scripts/${relative} is neither a command nor under scripts/lib`);
  if (parts.length === 2) return MODEL_FILES.has(relative) ? 'model' : 'tool wrapper or utility';
  return parts[1] === 'model' ? 'model' : 'feature';
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

/** Every import in scripts/**\/*.ts that goes from a lower layer to a higher one. */
function layerViolations(root: string = SCRIPTS): LayerViolation[] {
  const violations: LayerViolation[] = [];
  for (const file of tsFiles(root)) {
    const from = path.relative(root, file).split(path.sep).join('/');
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      const target = path.relative(root, path.resolve(path.dirname(file), specifier)).split(path.sep).join('/');
      if (target.startsWith('..')) continue; // outside scripts/ (none today)
      const [a, b] = [layerOf(from), layerOf(target)];
      if (LAYERS.indexOf(b) > LAYERS.indexOf(a)) {
        violations.push({ file: `scripts/${from}`, imports: specifier, why: `a ${a} imports a ${b} (scripts/${target})` });
      }
    }
  }
  return violations;
}

describe('layering', () => {
  it('places files in their layer', () => {
    expect(layerOf('validate.ts')).toBe('command');
    expect(layerOf('lib/validate/run.ts')).toBe('feature');
    expect(layerOf('lib/model/object.ts')).toBe('model');
    expect(layerOf('lib/render.ts')).toBe('model');
    expect(layerOf('lib/kustomize.ts')).toBe('tool wrapper or utility');
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
    const { mkdtemp, mkdir, rm, writeFile } = await import('node:fs/promises');
    const os = await import('node:os');
    const root = await mkdtemp(path.join(os.tmpdir(), 'emqx-layers-'));
    try {
      await mkdir(path.join(root, 'lib', 'model'), { recursive: true });
      await mkdir(path.join(root, 'lib', 'validate'), { recursive: true });
      await writeFile(path.join(root, 'lib', 'validate', 'run.ts'), 'export const x = 1;\n');
      await writeFile(path.join(root, 'lib', 'model', 'object.ts'), "import { x } from '../validate/run.ts';\n");
      await writeFile(path.join(root, 'lib', 'kustomize.ts'), "import type { K } from './model/object.ts';\n");
      await writeFile(path.join(root, 'build.ts'), "import { x } from './lib/validate/run.ts';\n");
      expect(layerViolations(root)).toEqual(
        expect.arrayContaining([
          { file: 'scripts/lib/model/object.ts', imports: '../validate/run.ts', why: 'a model imports a feature (scripts/lib/validate/run.ts)' },
          { file: 'scripts/lib/tools/kustomize.ts', imports: './model/object.ts', why: 'a tool wrapper or utility imports a model (scripts/lib/model/object.ts)' },
        ]),
      );
      expect(layerViolations(root)).toHaveLength(2);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('holds in scripts/: commands -> features -> model -> tool wrappers and utilities', () => {
    const lines = layerViolations().map((v) => `${v.file} imports ${v.imports}: ${v.why}`);
    expect(lines, lines.join('\n')).toEqual([]);
  });
});
