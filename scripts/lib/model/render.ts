// Renders overlays with kustomize, in parallel and in batches. `build`, `validate` and `diff` all
// render through here; what a failure means is render-hints.ts's, what the output holds render-stream.ts's.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_CONCURRENCY, mapConcurrent } from '../util/concurrency.ts';
import { kustomizeBuild, type BuildOptions, type Kustomize, type KustomizeBuildResult } from '../tools/kustomize.ts';
import { kustomizationFileIn, type Overlay } from './overlays.ts';
import { displayPath } from '../util/paths.ts';
import { explainRenderFailure } from './render-hints.ts';

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
  /**
   * How many kustomize processes ran, and how many overlays were rendered alone because their
   * batched output could not be proven exact (for benchmarks and tests).
   */
  readonly stats: { readonly processes: number; readonly renderedAlone: number };
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
   * Build several overlays in one kustomize process (at most MAX_BATCH each, one process per
   * core), through a wrapper that lists them all: kustomize's start-up and its walk of the shared
   * base are paid once per batch instead of once per overlay. Each overlay goes in through a member
   * wrapper that marks its objects (an annotation, to split the output) and prefixes their names,
   * so that overlays whose objects have the same ids (a fleet's cluster directories, each for
   * another cluster) fit in one build; both are removed again (see memberKustomization). A batch
   * that fails is halved until the broken overlay renders alone, so every failure is still
   * reported against its own overlay; an overlay whose batched output cannot be proven byte-identical to its own
   * `kustomize build` is rendered alone as well.
   */
  readonly batch?: boolean;
}

export async function renderOverlays(k: Kustomize, overlays: readonly Overlay[], options: RenderOptions = {}): Promise<RenderResult> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const stats = { processes: 0, renderedAlone: 0 };
  const build: Build = (dir) => {
    stats.processes++;
    return kustomizeBuild(k, dir, options);
  };
  const single = async (overlay: Overlay): Promise<RenderedOverlay | RenderFailure> => {
    if (options.origins) return renderWithOrigins(build, overlay);
    const result = await build(overlay.dir);
    return result.ok ? { overlay, yaml: result.yaml } : { overlay, message: explainRenderFailure(overlay, result.message) };
  };
  const batched = async (group: readonly Overlay[]): Promise<Array<RenderedOverlay | RenderFailure>> => {
    if (group.length === 1) return [await single(group[0]!)];
    const results = await renderBatch(build, group, options);
    if (!results) {
      // The batch does not build (an overlay in it is broken): halve it, so that one broken overlay
      // costs a few builds rather than one per member, and is finally rendered alone for its message.
      const half = Math.ceil(group.length / 2);
      return [...(await batched(group.slice(0, half))), ...(await batched(group.slice(half)))];
    }
    // A member whose batched output is not provably exact renders alone.
    return mapConcurrent(group, 1, async (overlay, i) => {
      const done = results[i];
      if (done) return done;
      stats.renderedAlone++;
      return single(overlay);
    });
  };
  let outcomes: Array<RenderedOverlay | RenderFailure>;
  if (options.batch && overlays.length > 1) {
    const alone = overlays.filter(needsOwnBuild);
    const together = overlays.filter((o) => !alone.includes(o));
    const byOverlay = new Map<Overlay, RenderedOverlay | RenderFailure>();
    const units = [...chunk(together, concurrency), ...alone.map((o) => [o])];
    for (const outcome of (await mapConcurrent(units, concurrency, batched)).flat()) byOverlay.set(outcome.overlay, outcome);
    outcomes = overlays.map((o) => byOverlay.get(o)!);
  } else {
    outcomes = await mapConcurrent(overlays, concurrency, single);
  }
  return {
    rendered: outcomes.filter((o): o is RenderedOverlay => 'yaml' in o),
    failures: outcomes.filter((o): o is RenderFailure => 'message' in o),
    stats,
  };
}

export const ORIGIN_ANNOTATION = 'config.kubernetes.io/origin';

type Build = (dir: string) => Promise<KustomizeBuildResult>;

async function renderWithOrigins(build: Build, overlay: Overlay): Promise<RenderedOverlay | RenderFailure> {
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
    const result = await build(wrapper);
    if (result.ok) return { overlay, yaml: result.yaml, originRoot: wrapper };
    return { overlay, message: explainRenderFailure(overlay, unwrapPaths(result.message, wrapper)) };
  } finally {
    await rm(wrapper, { recursive: true, force: true });
  }
}

/**
 * Most overlays per kustomize process. A batch's memory grows with its members (kustomize holds
 * every object of the batch at once), so batches stay this small however many overlays there are.
 */
export const MAX_BATCH = 16;

/** Contiguous groups, in order: at least `count` (one per worker), none larger than `MAX_BATCH`. */
export function chunk<T>(items: readonly T[], count: number, max: number = MAX_BATCH): T[][] {
  const groups = Math.max(1, Math.min(items.length, Math.max(count, Math.ceil(items.length / max))));
  const size = Math.ceil(items.length / groups);
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

const OVERLAY_MARK = 'render.emqx-gitops/overlay-index';

/**
 * Kinds kustomize's name prefix leaves alone (its PrefixSuffixTransformer skips them), by the
 * apiVersion whose version part the batch marks instead, so that two members' Namespaces (or CRDs)
 * do not collide either. Other versions of these kinds are rare; if two members carry one, the
 * batch fails and its members render alone.
 */
const UNPREFIXED_KINDS: ReadonlyArray<{ readonly group: string; readonly version: string; readonly kind: string }> = [
  { group: '', version: 'v1', kind: 'Namespace' },
  { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' },
  { group: 'apiregistration.k8s.io', version: 'v1', kind: 'APIService' },
];

/** A per-run token, so that nothing in a user's manifests can look like a batch member's prefix. */
function batchToken(): string {
  return Array.from(randomBytes(8), (b) => String.fromCharCode(97 + (b % 26))).join('');
}

/**
 * The member wrapper of overlay `index`: the overlay as its only resource, every object marked with
 * the index (an annotation, to split the output by) and its id made unique within the batch by the
 * prefix `<token><index>-`, through kustomize's own features:
 * - the PrefixSuffixTransformer on `metadata/name`; kustomize then rewrites every reference it
 *   knows to the prefixed names (configMapRef, roleRef, serviceName ...), and puts a generated
 *   ConfigMap's or Secret's hash suffix after the prefixed name, with the same hash;
 * - for the kinds that transformer skips, a JSON patch that prefixes the apiVersion's version.
 * The prefix is on every object of the member, so kustomize's order (by kind, namespace, name) is
 * unchanged within the member. Undone exactly by `undoMemberPrefix`.
 */
export function memberKustomization(relativeOverlay: string, index: number, token: string): string {
  const prefix = `${token}${index}-`;
  const marker = [
    'apiVersion: builtin',
    'kind: AnnotationsTransformer',
    'metadata: {name: overlay-index}',
    `annotations: {${JSON.stringify(OVERLAY_MARK)}: "${index}"}`,
    // Only metadata.annotations: pod templates and everything else stay as the overlay renders them.
    'fieldSpecs: [{path: metadata/annotations, create: true}]',
  ].join('\n');
  const names = ['apiVersion: builtin', 'kind: PrefixSuffixTransformer', 'metadata: {name: batch-member}', `prefix: ${prefix}`, 'fieldSpecs: [{path: metadata/name}]'].join('\n');
  const patches = UNPREFIXED_KINDS.map(({ group, version, kind }) => {
    const value = group ? `${group}/${prefix}${version}` : `${prefix}${version}`;
    const op = JSON.stringify([{ op: 'replace', path: '/apiVersion', value }]);
    return `  - target: {group: ${JSON.stringify(group)}, version: ${version}, kind: ${kind}}\n    patch: ${JSON.stringify(op)}`;
  });
  return [`resources: [${JSON.stringify(relativeOverlay)}]`, 'patches:', ...patches, 'transformers:', `  - ${JSON.stringify(marker)}`, `  - ${JSON.stringify(names)}`, ''].join('\n');
}

/** YAML 1.1 words that kustomize's encoder quotes, so a plain scalar must not become one. */
const SPECIAL_WORDS = /^(?:y|yes|n|no|on|off|true|false|null)$/i;

/**
 * A member's text with its prefix removed: exactly what `kustomize build` of the overlay alone
 * prints, or `undefined` where that cannot be guaranteed (the caller renders the overlay alone):
 * - another member's prefix shows (kustomize resolved a reference into another member: an object
 *   one overlay refers to and only another one has);
 * - a plain scalar would, without the prefix, be one that kustomize quotes (`name: "007"`), or
 *   start with something other than a letter.
 */
export function undoMemberPrefix(text: string, token: string, index: number): string | undefined {
  const prefix = `${token}${index}-`;
  const foreign = new RegExp(`${token}(?!${index}-)\\d+-`);
  if (foreign.test(text)) return undefined;
  let safe = true;
  const undone = text.replaceAll(prefix, (_match, offset: number) => {
    const before = text.slice(text.lastIndexOf('\n', offset - 1) + 1, offset);
    // The prefix starts a plain scalar (a key, a value after `key: ` or `- `, an item of a flow
    // collection): what is left of the scalar must still be one kustomize prints unquoted.
    if (/(?:^|: |- |\[|\{|, )\s*$/.test(before)) {
      const end = text.indexOf('\n', offset);
      const rest = text.slice(offset + prefix.length, end < 0 ? undefined : end);
      const scalar = rest.split(/: |:$|[,\]}]| #/)[0]!;
      if (!/^[a-z]/.test(scalar) || SPECIAL_WORDS.test(scalar)) safe = false;
    }
    return '';
  });
  return safe ? undone : undefined;
}

/**
 * Overlays that must render alone: kustomize honours `sortOptions` only in the kustomization it
 * builds, so inside a batch the overlay's own order would be lost; and a Component builds on its
 * own but not as another kustomization's resource.
 */
function needsOwnBuild(overlay: Overlay): boolean {
  const file = kustomizationFileIn(overlay.dir);
  if (!file) return true;
  try {
    const k = parse(readFileSync(file, 'utf8')) as unknown;
    return k !== null && typeof k === 'object' && ('sortOptions' in k || (k as { kind?: unknown }).kind === 'Component');
  } catch {
    return true; // kustomize will say what is wrong with it, against this overlay alone
  }
}

/**
 * One kustomize process for a group of overlays. `undefined` when the group does not build as a
 * whole (the caller renders each overlay alone to find out which one fails, and why); else one
 * entry per overlay, `undefined` for an overlay whose batched output could not be proven exact.
 */
async function renderBatch(build: Build, overlays: readonly Overlay[], options: RenderOptions): Promise<Array<RenderedOverlay | undefined> | undefined> {
  const wrapper = await mkdtemp(path.join(os.tmpdir(), 'emqx-render-'));
  const token = batchToken();
  try {
    await Promise.all(
      overlays.map(async (overlay, index) => {
        const dir = path.join(wrapper, String(index));
        await mkdir(dir);
        const relative = path.relative(dir, overlay.dir).split(path.sep).join('/');
        await writeFile(path.join(dir, 'kustomization.yaml'), memberKustomization(relative, index, token));
      }),
    );
    const top = [`resources: [${overlays.map((_, i) => JSON.stringify(String(i))).join(', ')}]`, ...(options.origins ? ['buildMetadata: [originAnnotations]'] : []), ''].join('\n');
    await writeFile(path.join(wrapper, 'kustomization.yaml'), top);
    const result = await build(wrapper);
    if (!result.ok) return undefined;
    const split = splitByMark(result.yaml, overlays.length);
    if (!split) return undefined;
    return overlays.map((overlay, i) => {
      const yaml = undoMemberPrefix(split[i]!, token, i);
      return yaml === undefined ? undefined : { overlay, yaml, ...(options.origins ? { originRoot: wrapper } : {}) };
    });
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
