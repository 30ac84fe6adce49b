// What a failed `kustomize build` means: the error at the bottom of kustomize's message, and the
// fix for the known ones, for the message every command prints about an overlay that does not render.
import path from 'node:path';
import { displayPath } from '../util/paths.ts';
import { kustomizationFileIn, type Overlay } from './overlays.ts';

/**
 * The error at the bottom of kustomize's message, without the wrappers it adds on the way up.
 * kustomize tries each `resources:` entry as a file first, then as a directory, and reports both:
 * `accumulation err='<as a file>': <as a directory>`. For a directory, the file attempt only says
 * "'<dir>' must resolve to a file" and the cause is in the directory part; for a file, the
 * directory attempt only says "must build at directory: ..." and the cause is in the file part.
 * Each level of nesting adds one such pair and a context prefix ("recursed accumulation of path
 * '<dir>': ", "accumulating components: ..."). Matching a hint against the whole message would
 * match the wrappers ("must resolve to a file" is in every nested error), not the cause.
 */
export function innermostKustomizeError(message: string): string {
  let inner = message.trim();
  for (let previous = ''; previous !== inner; ) {
    previous = inner;
    inner = inner
      // A directory resource: keep what building it as a directory said.
      .replace(/accumulation err='accumulating resources from '[^']*': '[^']*' must resolve to a file': /g, '')
      // A file resource (or a path that is neither): keep what loading it as a file said.
      .replace(/accumulation err='([\s\S]*)': must build at directory: [\s\S]*$/, '$1')
      // Context that only says where kustomize was.
      .replace(/^(?:accumulating (?:resources|components): |recursed accumulation of path '[^']*': |accumulateDirectory: "|loader\.New "|accumulating resources from '[^']*': )/, '')
      .trim();
  }
  // A component's error comes quoted ("..."), with its own quotes escaped.
  return inner.replace(/"$/, '').replaceAll('\\"', '"');
}

/**
 * Known kustomize and YAML errors, and what fixes them, matched against the innermost error.
 * `where` is the file at fault when kustomize does not name it (a broken kustomization.yaml), else
 * "the file named above"; `match` is the pattern's match in the innermost error.
 */
export const RENDER_HINTS: ReadonlyArray<{ readonly id: string; readonly pattern: RegExp; readonly hint: (where: string, match: RegExpExecArray) => string }> = [
  {
    id: 'yaml-tab',
    pattern: /found character that cannot start any token|found a tab character|tabs? (are|is) not allowed/i,
    hint: (where) => `a tab character in YAML indentation: YAML allows spaces only. Replace the tabs in ${where} with spaces (.editorconfig sets this for most editors).`,
  },
  {
    id: 'absolute-path',
    pattern: /cannot be absolute/i,
    hint: () => 'kustomize does not accept absolute paths under resources or components: use a path relative to the kustomization.yaml.',
  },
  {
    id: 'missing-file',
    pattern: /no such file or directory|evalsymlink failure|not a valid directory/i,
    hint: () => 'kustomization.yaml lists a file or directory that does not exist: fix the path, or add the file.',
  },
  {
    id: 'no-kustomization',
    pattern: /unable to find one of 'kustomization\.yaml'/i,
    hint: () => 'a directory listed under resources or components holds no kustomization.yaml.',
  },
  {
    id: 'duplicate-resource',
    pattern: /may not add resource with an already registered id|already registered id/i,
    hint: () => 'two resources with the same kind, name and namespace: remove one, or patch the existing one instead of adding a second.',
  },
  {
    id: 'patch-target',
    pattern: /no matches for Id|failed to find unique target for patch|nothing selected by/i,
    // No word on deployment-ip here: its StatefulSet becomes the Deployment by a change of kind,
    // which kustomize follows, so a patch or replacement naming StatefulSet emqx reaches the
    // Deployment there (a `target:` selector of kind StatefulSet selects nothing, without an error).
    hint: () => "a patch or replacement targets an object that the build does not contain: check the target's kind and name (after any namePrefix).",
  },
  {
    // statefulset-to-deployment/patches/statefulset-to-deployment.yaml tests the base's values of
    // these three before it drops them (a Deployment has none of them).
    id: 'deployment-statefulset-field',
    pattern: /testing value \/spec\/(serviceName|podManagementPolicy|updateStrategy) failed/,
    hint: (_where, m) =>
      `on overlays/deployment-ip, or an overlay built on it, the StatefulSet emqx becomes a Deployment, which has no spec.${m[1]!}: the conversion drops the base's value, and a component or patch above it changed that value, which the Deployment cannot keep. ` +
      (m[1] === 'updateStrategy'
        ? 'Remove the change, and set spec.strategy with a patch on `kind: Deployment` in the overlay instead;'
        : 'Remove the change;') +
      ' if the pods need it, run a StatefulSet overlay (statefulset-hostname-pvc).',
  },
  {
    id: 'json-patch-path',
    pattern: /(\w+) operation does not apply: doc is missing path: "?([^"\s]+)|error in (\w+) for path: '([^']+)'|testing value (\S+) failed/i,
    hint: (_where, m) =>
      `a JSON patch ${m[5] ? `test of ${m[5]} failed (the value there is not the one the patch expects)` : `(${m[1] ?? m[3]} at ${m[2] ?? m[4]}) names a path the target object does not have`}: ` +
      'JSON patch paths must already exist (`/-` appends to an existing list only). Check the path against the object as rendered at that point ' +
      '(`kustomize build` the directory the patch is in), or use a strategic-merge patch, which creates missing fields.',
  },
  {
    id: 'generator-repeated-key',
    pattern: /(?:configmap|secret) (\S+) illegally repeats the key `([^`]+)`/i,
    hint: (_where, m) =>
      `the generator ${m[1]} lists the key ${m[2]} twice (across its literals, envs and files): keep one. ` +
      'To change a value a base generates, add a generator of the same name with `behavior: merge` in the overlay.',
  },
  {
    id: 'security',
    pattern: /security; file .* is not in or below/i,
    hint: () => 'kustomize only reads files inside the kustomization root: list the other directory as a resource (it needs its own kustomization.yaml).',
  },
  {
    id: 'yaml-syntax',
    pattern: /mapping values are not allowed|did not find expected|could not find expected ':'|yaml: line \d+/i,
    hint: (where) => `a YAML syntax error in ${where} (often indentation): fix the line kustomize names.`,
  },
];

/** The hint for a kustomize message, judged by its innermost error; `undefined` when none fits. */
export function hintFor(kustomizeMessage: string, where: string): { id: string; text: string } | undefined {
  const inner = innermostKustomizeError(kustomizeMessage);
  for (const h of RENDER_HINTS) {
    const m = h.pattern.exec(inner);
    if (m) return { id: h.id, text: h.hint(where, m) };
  }
  return undefined;
}

export function explainRenderFailure(overlay: Overlay, kustomizeMessage: string): string {
  const file = kustomizationInError(overlay, kustomizeMessage);
  const hint = hintFor(kustomizeMessage, file ? displayPath(file) : 'the file named above')?.text;
  const quoted = kustomizeMessage
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
  return [`overlay ${overlay.name} (${displayPath(overlay.dir)}): kustomize build failed:`, quoted, hint ? `  fix: ${hint}` : undefined]
    .filter((line) => line !== undefined)
    .join('\n');
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
