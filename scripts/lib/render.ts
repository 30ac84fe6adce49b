// Renders overlays with kustomize, in parallel. `build`, `validate` and `diff` all render through here.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_CONCURRENCY, mapConcurrent } from './concurrency.ts';
import { kustomizeBuild, type BuildOptions, type Kustomize } from './kustomize.ts';
import { kustomizationFileIn, type Overlay } from './overlays.ts';
import { displayPath } from './paths.ts';
import type { K8sObject } from './model/object.ts';

export interface RenderedOverlay {
  readonly overlay: Overlay;
  readonly yaml: string;
  /**
   * With `origins: true`: the directory that the `config.kubernetes.io/origin` paths in `yaml` are
   * relative to (a temporary directory, already removed; use it for path arithmetic only).
   */
  readonly originRoot?: string;
}

export interface RenderFailure {
  readonly overlay: Overlay;
  /** Complete, user-facing: names the overlay, quotes kustomize, says what to do. */
  readonly message: string;
}

export interface RenderResult {
  readonly rendered: RenderedOverlay[];
  readonly failures: RenderFailure[];
}

export interface RenderOptions extends BuildOptions {
  readonly concurrency?: number;
  /**
   * Annotate every object with the file that produced it (`config.kubernetes.io/origin`), for
   * `validate`. The overlay is built through a wrapper kustomization in a temporary directory that
   * lists it as a resource with `buildMetadata: [originAnnotations]`, so the user's files stay
   * untouched. Off by default: `build` output carries no annotations.
   */
  readonly origins?: boolean;
  /**
   * Build several overlays in one kustomize process (one process per core), through a wrapper
   * that lists them all: kustomize's start-up and its walk of the shared base are paid once per
   * batch instead of once per overlay. Each object is tagged with its overlay's index (an
   * annotation, removed again) to split the output. A batch that fails (a broken overlay, two
   * overlays producing the same object) is rendered again overlay by overlay, so every failure is
   * still reported against its own overlay. The output of each overlay is the same as unbatched.
   */
  readonly batch?: boolean;
}

export async function renderOverlays(k: Kustomize, overlays: readonly Overlay[], options: RenderOptions = {}): Promise<RenderResult> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const single = async (overlay: Overlay): Promise<RenderedOverlay | RenderFailure> => {
    if (options.origins) return renderWithOrigins(k, overlay, options);
    const result = await kustomizeBuild(k, overlay.dir, options);
    return result.ok ? { overlay, yaml: result.yaml } : { overlay, message: explainRenderFailure(overlay, result.message) };
  };
  const outcomes =
    options.batch && overlays.length > 1
      ? (await mapConcurrent(chunk(overlays, concurrency), concurrency, async (group) => (await renderBatch(k, group, options)) ?? mapConcurrent(group, 1, single))).flat()
      : await mapConcurrent(overlays, concurrency, single);
  return {
    rendered: outcomes.filter((o): o is RenderedOverlay => 'yaml' in o),
    failures: outcomes.filter((o): o is RenderFailure => 'message' in o),
  };
}

export const ORIGIN_ANNOTATION = 'config.kubernetes.io/origin';

async function renderWithOrigins(k: Kustomize, overlay: Overlay, options: BuildOptions): Promise<RenderedOverlay | RenderFailure> {
  const wrapper = await mkdtemp(path.join(os.tmpdir(), 'emqx-validate-'));
  try {
    // kustomize refuses an absolute resource path ("new root cannot be absolute"): use a relative one.
    const relative = path.relative(wrapper, overlay.dir).split(path.sep).join('/');
    const kustomization = [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `resources: [${JSON.stringify(relative)}]`,
      'buildMetadata: [originAnnotations]',
      '',
    ].join('\n');
    await writeFile(path.join(wrapper, 'kustomization.yaml'), kustomization);
    const result = await kustomizeBuild(k, wrapper, options);
    if (result.ok) return { overlay, yaml: result.yaml, originRoot: wrapper };
    return { overlay, message: explainRenderFailure(overlay, unwrapPaths(result.message, wrapper)) };
  } finally {
    await rm(wrapper, { recursive: true, force: true });
  }
}

/** `count` contiguous groups of nearly equal size, in order. */
function chunk<T>(items: readonly T[], count: number): T[][] {
  const groups = Math.max(1, Math.min(count, items.length));
  const size = Math.ceil(items.length / groups);
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

const OVERLAY_MARK = 'render.emqx-gitops/overlay-index';

/**
 * One kustomize process for a group of overlays; `undefined` when the group does not build as a
 * whole (the caller renders each overlay alone to find out which one fails, and why).
 */
async function renderBatch(k: Kustomize, overlays: readonly Overlay[], options: RenderOptions): Promise<RenderedOverlay[] | undefined> {
  const wrapper = await mkdtemp(path.join(os.tmpdir(), 'emqx-render-'));
  try {
    await Promise.all(
      overlays.map(async (overlay, index) => {
        const dir = path.join(wrapper, String(index));
        await mkdir(dir);
        const relative = path.relative(dir, overlay.dir).split(path.sep).join('/');
        // Only metadata.annotations: pod templates and everything else stay as the overlay renders them.
        const marker = [
          'apiVersion: builtin',
          'kind: AnnotationsTransformer',
          'metadata: {name: overlay-index}',
          `annotations: {${JSON.stringify(OVERLAY_MARK)}: "${index}"}`,
          'fieldSpecs: [{path: metadata/annotations, create: true}]',
        ].join('\n');
        await writeFile(path.join(dir, 'kustomization.yaml'), `resources: [${JSON.stringify(relative)}]\ntransformers:\n  - ${JSON.stringify(marker)}\n`);
      }),
    );
    const top = [`resources: [${overlays.map((_, i) => JSON.stringify(String(i))).join(', ')}]`, ...(options.origins ? ['buildMetadata: [originAnnotations]'] : []), ''].join('\n');
    await writeFile(path.join(wrapper, 'kustomization.yaml'), top);
    const result = await kustomizeBuild(k, wrapper, options);
    if (!result.ok) return undefined;
    const split = splitByMark(result.yaml, overlays.length);
    if (!split) return undefined;
    return overlays.map((overlay, i) => ({ overlay, yaml: split[i]!, ...(options.origins ? { originRoot: wrapper } : {}) }));
  } finally {
    await rm(wrapper, { recursive: true, force: true });
  }
}

/**
 * Splits kustomize's output by the overlay mark and removes the mark (and an `annotations:` that
 * held only it). Works on the text, as kustomize prints it (sorted keys, two-space indent), so the
 * documents are not re-serialised. `undefined` if a document has no mark.
 */
export function splitByMark(yaml: string, count: number): string[] | undefined {
  const parts: string[][] = Array.from({ length: count }, () => []);
  const markLine = new RegExp(`^    ${OVERLAY_MARK.replace(/[./-]/g, '\\$&')}: "(\\d+)"$`, 'm');
  for (const doc of yaml.split(/^---\n/m)) {
    if (doc.trim() === '') continue;
    const m = markLine.exec(doc);
    const index = m ? Number(m[1]) : NaN;
    if (!m || !(index < count)) return undefined;
    let text = doc.slice(0, m.index) + doc.slice(m.index + m[0].length + 1);
    text = text.replace(/^  annotations:\n(?! {4})/m, '');
    parts[index]!.push(text);
  }
  return parts.map((docs) => docs.join('---\n'));
}

/** kustomize names files relative to the wrapper: give the user paths they recognise. */
function unwrapPaths(message: string, wrapper: string): string {
  return message
    .replace(/(?:\.\.\/)+[^\s'":]+/g, (relative) => displayPath(path.resolve(wrapper, relative)))
    .replaceAll(`${wrapper}/`, '')
    .replaceAll(wrapper, '.');
}

/**
 * Known kustomize and YAML errors, and what fixes them. `where` is the file at fault when kustomize
 * does not name it (a broken kustomization.yaml), else "the file named above".
 */
const HINTS: ReadonlyArray<{ readonly pattern: RegExp; readonly hint: (where: string) => string }> = [
  {
    pattern: /found character that cannot start any token|found a tab character|tabs? (are|is) not allowed/i,
    hint: (where) => `a tab character in YAML indentation: YAML allows spaces only. Replace the tabs in ${where} with spaces (.editorconfig sets this for most editors).`,
  },
  {
    pattern: /cannot be absolute/i,
    hint: () => 'kustomize does not accept absolute paths under resources or components: use a path relative to the kustomization.yaml.',
  },
  {
    pattern: /no such file or directory|must resolve to a file|evalsymlink failure|not a valid directory/i,
    hint: () => 'kustomization.yaml lists a file or directory that does not exist: fix the path, or add the file.',
  },
  {
    pattern: /unable to find one of 'kustomization\.yaml'/i,
    hint: () => 'a directory listed under resources or components holds no kustomization.yaml.',
  },
  {
    pattern: /may not add resource with an already registered id|already registered id/i,
    hint: () => 'two resources with the same kind, name and namespace: remove one, or patch the existing one instead of adding a second.',
  },
  {
    pattern: /no matches for Id|failed to find unique target for patch|nothing selected by/i,
    hint: () => "a patch or replacement targets an object that the build does not contain: check the target's kind and name (after any namePrefix).",
  },
  {
    pattern: /security; file .* is not in or below/i,
    hint: () => 'kustomize only reads files inside the kustomization root: list the other directory as a resource (it needs its own kustomization.yaml).',
  },
  {
    pattern: /mapping values are not allowed|did not find expected|could not find expected ':'|yaml: line \d+/i,
    hint: (where) => `a YAML syntax error in ${where} (often indentation): fix the line kustomize names.`,
  },
];

export function explainRenderFailure(overlay: Overlay, kustomizeMessage: string): string {
  const file = kustomizationInError(overlay, kustomizeMessage);
  const hint = HINTS.find((h) => h.pattern.test(kustomizeMessage))?.hint(file ? displayPath(file) : 'the file named above');
  const quoted = kustomizeMessage
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
  return [`overlay ${overlay.name} (${displayPath(overlay.dir)}): kustomize build failed:`, quoted, hint ? `  fix: ${hint}` : undefined]
    .filter((line) => line !== undefined)
    .join('\n');
}

/**
 * The objects of a rendered stream, in order; empty documents are skipped. kustomize only prints
 * valid YAML, so anything else throws (a bug, not a user error).
 */
export function parseObjects(yaml: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(yaml)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const value = doc.toJS({ maxAliasCount: -1 }) as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error('a document in the rendered stream is not a Kubernetes object');
    objects.push(value as K8sObject);
  }
  return objects;
}

/** The number of Kubernetes objects in a rendered stream. */
export function countObjects(yaml: string): number {
  return parseObjects(yaml).length;
}

/**
 * kustomize reports a broken kustomization file as "invalid Kustomization" without naming it: it is
 * the one in the last directory it was making a target for, else the overlay's own.
 */
function kustomizationInError(overlay: Overlay, message: string): string | undefined {
  if (!/invalid Kustomization/.test(message)) return undefined;
  const targets = [...message.matchAll(/make target for path '([^']+)'/g)].map((m) => m[1]!);
  const dir = path.resolve(overlay.dir, targets.at(-1) ?? '.');
  return kustomizationFileIn(dir) ?? path.join(dir, 'kustomization.yaml');
}
