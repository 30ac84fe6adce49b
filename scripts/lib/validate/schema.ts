// The schema step: kubeconform (scripts/lib/tools/kubeconform.ts) in strict mode against the local
// schemas, its results turned into findings. A kind without a schema is an error, not a skip.
import { parse } from 'yaml';
import { findKubeconform, validateManifests, type KubeconformResource } from '../tools/kubeconform.ts';
import type { RuleFinding } from './types.ts';

/** What the validate run needs from a schema validator; tests pass a fake. */
export interface SchemaValidator {
  /** For the report header, e.g. `kubeconform v0.7.0, Kubernetes 1.37`. */
  readonly description: string;
  validate(yaml: string): Promise<KubeconformResource[]>;
}

export async function kubeconformValidator(kubernetesVersion: string, schemaDir?: string): Promise<SchemaValidator> {
  const k = await findKubeconform();
  return {
    description: `kubeconform ${k.version}, Kubernetes ${kubernetesVersion}`,
    validate: (yaml) => validateManifests(k, yaml, { kubernetesVersion, ...(schemaDir ? { schemaDir } : {}) }),
  };
}

export const SCHEMA_RULES = {
  invalid: { id: 'schema', description: 'Every object matches the OpenAPI schema of its kind for the chosen Kubernetes version, strictly (no unknown fields, no duplicate keys).', fix: 'correct the field named in the message; `kubectl explain KIND.FIELD` shows what the API accepts.' },
  missing: { id: 'schema/missing', description: 'Every kind has a schema: a kind the validator cannot check is an error, never a silent skip.', fix: 'use an apiVersion the Kubernetes version serves, or add the CRD to CRD_SOURCES and run `npm run schemas` (docs/schemas.md).' },
} as const;

/** `/spec/template/spec/containers/0/ports` -> `spec.template.spec.containers[0].ports`. */
export function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .filter((s) => s !== '')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

export function schemaFindings(resources: readonly KubeconformResource[]): RuleFinding[] {
  return resources.flatMap((r): RuleFinding[] => {
    const base = { kind: r.kind || 'unknown', name: r.name || 'unknown', severity: 'error' as const };
    switch (r.status) {
      case 'statusValid':
      case 'statusEmpty':
        return [];
      case 'statusInvalid': {
        const errors = r.validationErrors.length > 0 ? r.validationErrors : [{ path: '', msg: r.msg }];
        return errors.map((e) => {
          const path = pointerToPath(e.path);
          return { ...base, rule: SCHEMA_RULES.invalid.id, ...(path ? { path } : {}), message: `${path || 'the object'}: ${e.msg} (apiVersion ${r.version}). Fix: ${SCHEMA_RULES.invalid.fix}` };
        });
      }
      case 'statusSkipped':
        return [{ ...base, rule: SCHEMA_RULES.missing.id, message: `${r.kind} (apiVersion ${r.version}) was skipped by the schema check. Fix: ${SCHEMA_RULES.missing.fix}` }];
      case 'statusError':
        return [{ ...base, rule: /^no schema for /.test(r.msg) ? SCHEMA_RULES.missing.id : SCHEMA_RULES.invalid.id, message: r.msg }];
    }
  });
}

const TAG = '@@overlay-';

/**
 * Appends `@@overlay-<index>` to each document's metadata.name, on the text (so that kubeconform
 * still sees exactly what kustomize printed, duplicate keys included). kubeconform reports only
 * apiVersion, kind and name per result: the tag tells which overlay a result belongs to when many
 * overlays, all with a StatefulSet `emqx`, are checked in one kubeconform process.
 */
export function tagNames(yaml: string, index: number): string {
  return yaml
    .split(/^---\n/m)
    .map((doc) =>
      doc.replace(/^metadata:\n(?:(?: {2}.*| *)\n)*/m, (block) =>
        block.replace(/^ {2}name: (.+)$/m, (_line, raw: string) => {
          const name = /^["']/.test(raw) ? String(parse(raw)) : raw;
          return `  name: ${JSON.stringify(`${name}${TAG}${index}`)}`;
        }),
      ),
    )
    .join('---\n');
}

/**
 * Schema-checks many overlays' streams in one kubeconform run (its start-up and schema compilation
 * are paid once), falling back to one run per stream if a result cannot be attributed.
 */
export async function validateMany(validator: SchemaValidator, streams: readonly string[]): Promise<KubeconformResource[][]> {
  if (streams.length <= 1) return Promise.all(streams.map((s) => validator.validate(s)));
  const joined = streams.map((s, i) => tagNames(s.endsWith('\n') || s === '' ? s : `${s}\n`, i)).filter((s) => s.trim() !== '').join('---\n');
  const results = joined === '' ? [] : await validator.validate(joined);
  const out: KubeconformResource[][] = streams.map(() => []);
  for (const r of results) {
    if (r.status === 'statusEmpty') continue;
    const at = r.name.lastIndexOf(TAG);
    const index = at >= 0 ? Number(r.name.slice(at + TAG.length)) : NaN;
    if (!(index >= 0 && index < streams.length)) return Promise.all(streams.map((s) => validator.validate(s)));
    out[index]!.push({ ...r, name: r.name.slice(0, at) });
  }
  return out;
}
