// Renders overlays with kustomize, in parallel. `build`, `validate` and `diff` all render through here.
import { parseAllDocuments } from 'yaml';
import { DEFAULT_CONCURRENCY, mapConcurrent } from './concurrency.ts';
import { kustomizeBuild, type BuildOptions, type Kustomize } from './kustomize.ts';
import type { Overlay } from './overlays.ts';
import { displayPath } from './paths.ts';

export interface RenderedOverlay {
  readonly overlay: Overlay;
  readonly yaml: string;
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
}

export async function renderOverlays(k: Kustomize, overlays: readonly Overlay[], options: RenderOptions = {}): Promise<RenderResult> {
  const outcomes = await mapConcurrent(overlays, options.concurrency ?? DEFAULT_CONCURRENCY, async (overlay) => {
    const result = await kustomizeBuild(k, overlay.dir, options);
    return result.ok ? { overlay, yaml: result.yaml } : { overlay, message: explainRenderFailure(overlay, result.message) };
  });
  return {
    rendered: outcomes.filter((o): o is RenderedOverlay => 'yaml' in o),
    failures: outcomes.filter((o): o is RenderFailure => 'message' in o),
  };
}

/** Known kustomize and YAML errors, and what fixes them. */
const HINTS: ReadonlyArray<{ readonly pattern: RegExp; readonly hint: string }> = [
  {
    pattern: /found character that cannot start any token|found a tab character|tabs? (are|is) not allowed/i,
    hint: 'a tab character in YAML indentation: YAML allows spaces only. Replace the tabs in the file named above with spaces (.editorconfig sets this for most editors).',
  },
  {
    pattern: /no such file or directory|must resolve to a file|evalsymlink failure|not a valid directory/i,
    hint: 'kustomization.yaml lists a file or directory that does not exist: fix the path, or add the file.',
  },
  {
    pattern: /unable to find one of 'kustomization\.yaml'/i,
    hint: 'a directory listed under resources or components holds no kustomization.yaml.',
  },
  {
    pattern: /may not add resource with an already registered id|already registered id/i,
    hint: 'two resources with the same kind, name and namespace: remove one, or patch the existing one instead of adding a second.',
  },
  {
    pattern: /no matches for Id|failed to find unique target for patch|nothing selected by/i,
    hint: "a patch or replacement targets an object that the build does not contain: check the target's kind and name (after any namePrefix).",
  },
  {
    pattern: /security; file .* is not in or below/i,
    hint: 'kustomize only reads files inside the kustomization root: list the other directory as a resource (it needs its own kustomization.yaml).',
  },
  {
    pattern: /mapping values are not allowed|did not find expected|could not find expected ':'|yaml: line \d+/i,
    hint: 'a YAML syntax error in the file named above (often indentation): fix the line kustomize names.',
  },
];

export function explainRenderFailure(overlay: Overlay, kustomizeMessage: string): string {
  const hint = HINTS.find((h) => h.pattern.test(kustomizeMessage))?.hint;
  const quoted = kustomizeMessage
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
  return [`overlay ${overlay.name} (${displayPath(overlay.dir)}): kustomize build failed:`, quoted, hint ? `  fix: ${hint}` : undefined]
    .filter((line) => line !== undefined)
    .join('\n');
}

/** The number of Kubernetes objects in a rendered stream. */
export function countObjects(yaml: string): number {
  return parseAllDocuments(yaml).filter((doc) => doc.contents !== null).length;
}
