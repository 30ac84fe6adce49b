// One validate run: render every overlay (through render.ts, with origins), check schemas and
// rules, and return findings with the source file and line of each. Pure data in and out; the
// command (scripts/validate.ts) prints and picks the exit code.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONCURRENCY } from '../util/concurrency.ts';
import type { Kustomize } from '../tools/kustomize.ts';
import { kustomizationFileIn, type Overlay } from '../model/overlays.ts';
import { displayPath, REPO_ROOT } from '../util/paths.ts';
import { renderOverlays } from '../model/render.ts';
import { RULES } from './rules/index.ts';
import { schemaFindings, validateMany, type SchemaValidator } from './schema.ts';
import { parseRendered, SourceIndex, type ParsedObject } from '../model/sources.ts';
import type { OverlayReport } from '../report/finding.ts';
import type { Finding, Rule, RuleContext, RuleFinding } from './types.ts';

export type { OverlayReport } from '../report/finding.ts';

export const RENDER_RULE = { id: 'render', description: 'The overlay builds with kustomize.', fix: 'see the kustomize message: it names the file.' } as const;

export interface ValidateOptions {
  readonly schema?: SchemaValidator;
  readonly rules?: readonly Rule[];
  readonly externalSecrets?: RuleContext['externalSecrets'];
  readonly concurrency?: number;
}

/** Runs each rule on one overlay's objects. */
export function runRules(rules: readonly Rule[], context: RuleContext): RuleFinding[] {
  return rules.flatMap((rule) => rule.check(context));
}

export async function validateOverlays(kustomize: Kustomize, overlays: readonly Overlay[], options: ValidateOptions = {}): Promise<OverlayReport[]> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const sources = new SourceIndex();
  // Origin annotations (the source file of each object) cost kustomize about twice the CPU time
  // (npm run bench:fleet), and only findings need them: render plainly, check, then render again
  // with origins only the overlays that have findings, to point each finding at its source line.
  const { rendered, failures } = await renderOverlays(kustomize, overlays, { batch: true, concurrency });
  // kubeconform runs in its own process while this one parses and runs the rules.
  const schemaRun = options.schema ? validateMany(options.schema, rendered.map((r) => r.yaml)) : Promise.resolve([]);
  await new Promise((resolve) => setImmediate(resolve));
  const checked = rendered.map(({ overlay, yaml }) => {
    const objects = parseRendered(yaml).map((p) => p.object);
    const context: RuleContext = { overlay: overlay.name, objects, ...(options.externalSecrets ? { externalSecrets: options.externalSecrets } : {}) };
    return { overlay, objects, origins: new Map<object, ParsedObject['origin']>(), ruleFindings: runRules(options.rules ?? RULES, context) };
  });
  const schemaResults = await schemaRun;
  const withFindings = checked.filter((c, index) => c.ruleFindings.length > 0 || schemaFindings(schemaResults[index] ?? []).length > 0);
  if (withFindings.length > 0) {
    const traced = await renderOverlays(
      kustomize,
      withFindings.map((c) => c.overlay),
      { origins: true, batch: true, concurrency },
    );
    const byOverlay = new Map(traced.rendered.map((r) => [r.overlay, r]));
    // The same render but for the annotations: objects pair up by apiVersion, kind, namespace and name.
    const key = (o: { apiVersion?: unknown; kind: string; metadata: { name?: unknown; namespace?: unknown } }) => `${String(o.apiVersion)}|${o.kind}|${String(o.metadata.namespace ?? '')}|${String(o.metadata.name)}`;
    for (const c of withFindings) {
      const r = byOverlay.get(c.overlay);
      if (!r) continue;
      const origins = new Map(parseRendered(r.yaml, r.originRoot).map((p) => [key(p.object), p.origin]));
      for (const object of c.objects) c.origins.set(object, origins.get(key(object)));
    }
  }
  const reports = new Map<Overlay, OverlayReport>();
  for (const failure of failures) {
    reports.set(failure.overlay, { overlay: failure.overlay, objects: 0, findings: [renderFinding(failure.overlay, failure.message)] });
  }
  checked.forEach(({ overlay, objects, origins, ruleFindings }, index) => {
    const raw = [...schemaFindings(schemaResults[index] ?? []), ...ruleFindings];
    const findings = raw.map((f) => {
      const object = f.object ?? objects.find((o) => o.kind === f.kind && o.metadata.name === f.name && (f.namespace === undefined || o.metadata.namespace === f.namespace));
      const origin = object ? origins.get(object) : undefined;
      const at = sources.locate(overlay.dir, origin, f.path, f.locate);
      const namespace = f.namespace ?? object?.metadata.namespace;
      const { object: _object, locate: _locate, ...rest } = f;
      return {
        ...rest,
        overlay: overlay.name,
        ...(namespace !== undefined ? { namespace } : {}),
        ...(at ? { file: displayPath(at.file), ...(at.line !== undefined ? { line: at.line } : {}) } : {}),
      } satisfies Finding;
    });
    reports.set(overlay, { overlay, objects: objects.length, findings: sortFindings(findings) });
  });
  return overlays.map((o) => reports.get(o)!);
}

/** Errors first, then by file, line and rule, so that output is stable from run to run. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  const key = (f: Finding) => [f.severity === 'error' ? 0 : 1, f.file ?? '', String(f.line ?? 0).padStart(6, '0'), f.rule, f.kind, f.name, f.path ?? ''].join('\u0000');
  return [...findings].sort((a, b) => key(a).localeCompare(key(b)));
}

/** A kustomize failure as a finding, naming the file kustomize complains about when it names one. */
export function renderFinding(overlay: Overlay, message: string): Finding {
  const named = [...message.matchAll(/(?:[\w.-]*\/)*[\w.-]+\.(?:ya?ml|env|json)\b/g)].map((m) => m[0]);
  const candidates = named.flatMap((n) => [path.resolve(REPO_ROOT, n), path.resolve(overlay.dir, n)]);
  const file = candidates.find((c) => existsSync(c)) ?? kustomizationFileIn(overlay.dir);
  const line = /\byaml: line (\d+)/.exec(message)?.[1];
  return {
    overlay: overlay.name,
    kind: 'Kustomization',
    name: overlay.name,
    ...(file ? { file: displayPath(file) } : {}),
    ...(line ? { line: Number(line) } : {}),
    rule: RENDER_RULE.id,
    severity: 'error',
    message,
  };
}
