// Which source file a finding comes from, and on which line. The object's origin (kustomize's
// originAnnotations) names the file that created it; a field set by a patch, a generator literal or
// an env file lives elsewhere, so the engine also searches the files the overlay's kustomizations
// list (the overlay's own first: the last writer wins) for the text a rule says the line holds.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { kustomizationFileIn } from './overlays.ts';
import { ORIGIN_ANNOTATION } from './render.ts';
import { parseObjects } from './render-stream.ts';
import { asArray, asRecord, asString, isRecord, type K8sObject } from './object.ts';

/** The origin annotation's file, absolute; undefined for a remote or unknown origin. */
export function originFile(annotation: string | undefined, originRoot: string | undefined): string | undefined {
  if (annotation === undefined || originRoot === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = parse(annotation);
  } catch {
    return undefined;
  }
  const origin = asRecord(parsed);
  if (origin.repo !== undefined) return undefined;
  const file = asString(origin.path) ?? asString(origin.configuredIn);
  return file === undefined ? undefined : path.resolve(originRoot, file);
}

/**
 * The files a kustomization tree reads other than its resource files, overlay first: each
 * kustomization file, its patches, transformers, generator env files and files; then its components,
 * then its resources' directories, recursively. Absolute paths, each once.
 */
export function kustomizationSources(dir: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (d: string) => {
    const file = kustomizationFileIn(d);
    if (!file || seen.has(file)) return;
    seen.add(file);
    let k: Record<string, unknown>;
    try {
      k = asRecord(parse(readFileSync(file, 'utf8')));
    } catch {
      return;
    }
    const own: string[] = [];
    const addFile = (entry: string | undefined) => {
      if (entry === undefined || /^\w+:\/\//.test(entry)) return;
      const p = path.resolve(d, entry);
      if (existsSync(p) && statSync(p).isFile()) own.push(p);
    };
    for (const patch of asArray(k.patches)) addFile(asString(patch.path));
    for (const patch of asArray(k.patchesJson6902)) addFile(asString(patch.path));
    for (const entry of Array.isArray(k.patchesStrategicMerge) ? k.patchesStrategicMerge : []) if (typeof entry === 'string' && !entry.includes('\n')) addFile(entry);
    for (const field of ['transformers', 'generators', 'validators'] as const) for (const entry of Array.isArray(k[field]) ? k[field] : []) if (typeof entry === 'string') addFile(entry);
    for (const field of ['configMapGenerator', 'secretGenerator'] as const) {
      for (const gen of asArray(k[field])) {
        for (const env of [asString(gen.env), ...(Array.isArray(gen.envs) ? gen.envs.map(String) : [])]) addFile(env);
        for (const entry of Array.isArray(gen.files) ? gen.files.map(String) : []) addFile(entry.includes('=') ? entry.slice(entry.indexOf('=') + 1) : entry);
      }
    }
    // The kustomization itself holds generator literals, images and replicas: after the patches,
    // which are more specific.
    out.push(...own, file);
    const dirs = (field: string) =>
      (Array.isArray(k[field]) ? k[field] : [])
        .filter((e): e is string => typeof e === 'string' && !/^\w+:\/\/|^git@|\?ref=/.test(e))
        .map((e) => path.resolve(d, e))
        .filter((p) => existsSync(p) && statSync(p).isDirectory());
    for (const sub of [...dirs('components'), ...dirs('resources'), ...dirs('bases')]) visit(sub);
  };
  visit(dir);
  return [...new Set(out)];
}

export interface SourceLocation {
  readonly file: string;
  readonly line?: number;
}

/** Reads files once per run: many overlays share a base. */
export class SourceIndex {
  private readonly lines = new Map<string, readonly string[] | null>();
  private readonly trees = new Map<string, readonly string[]>();

  linesOf(file: string): readonly string[] | undefined {
    if (!this.lines.has(file)) {
      try {
        this.lines.set(file, readFileSync(file, 'utf8').split('\n'));
      } catch {
        this.lines.set(file, null);
      }
    }
    return this.lines.get(file) ?? undefined;
  }

  sourcesOf(overlayDir: string): readonly string[] {
    let found = this.trees.get(overlayDir);
    if (!found) this.trees.set(overlayDir, (found = kustomizationSources(overlayDir)));
    return found;
  }

  /**
   * Where a finding's field is written. With `needle`: the first file among the overlay's sources,
   * then the origin file, that has a non-comment line containing it. Otherwise, or if none has it:
   * the origin file, at the line of the path's last field name, or at its first line.
   */
  locate(overlayDir: string, origin: string | undefined, fieldPath: string | undefined, needles: string | readonly string[] | undefined): SourceLocation | undefined {
    for (const needle of typeof needles === 'string' ? [needles] : (needles ?? [])) {
      if (!needle) continue;
      for (const file of [...this.sourcesOf(overlayDir), ...(origin ? [origin] : [])]) {
        const line = this.lineWith(file, (text) => text.includes(needle));
        if (line !== undefined) return { file, line };
      }
    }
    if (!origin) return undefined;
    const leaf = fieldPath?.split('.').pop()?.replace(/\[.*$/, '');
    const line = leaf ? this.lineWith(origin, (text) => new RegExp(`^\\s*(- )?${leaf.replace(/[^\w-]/g, '')}:`).test(text)) : undefined;
    return { file: origin, line: line ?? 1 };
  }

  private lineWith(file: string, test: (text: string) => boolean): number | undefined {
    const lines = this.linesOf(file);
    if (!lines) return undefined;
    const index = lines.findIndex((text) => !/^\s*#/.test(text) && test(text));
    return index >= 0 ? index + 1 : undefined;
  }
}

/** A rendered object and the file kustomize says it came from. */
export interface ParsedObject {
  readonly object: K8sObject;
  readonly origin?: string;
}

/**
 * Parses a rendered stream into objects, taking the origin annotation off each (the rules and the
 * user never see it).
 */
export function parseRendered(yaml: string, originRoot?: string): ParsedObject[] {
  return parseObjects(yaml)
    .filter((o) => typeof o.kind === 'string' && isRecord(o.metadata))
    .map((object) => {
      const annotations = object.metadata.annotations as Record<string, string> | undefined;
      const annotation = annotations?.[ORIGIN_ANNOTATION];
      if (annotations && annotation !== undefined) {
        delete annotations[ORIGIN_ANNOTATION];
        if (Object.keys(annotations).length === 0) delete (object.metadata as Record<string, unknown>).annotations;
      }
      const origin = originFile(annotation, originRoot);
      return origin ? { object, origin } : { object };
    });
}
