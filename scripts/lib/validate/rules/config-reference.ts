import { findingFor } from '../finding.ts';
import { producedSecrets } from '../produced-secrets.ts';
import type { Rule, RuleContext, RuleFinding } from '../types.ts';
import { secretKeys } from '../../model/env.ts';
import { type Json, type K8sObject, asArray, asRecord, asString, findObject } from '../../model/object.ts';
import { type Workload, containersOf, podPath, workloads } from '../../model/workloads.ts';

interface Reference {
  readonly kind: 'ConfigMap' | 'Secret';
  readonly name: string;
  /** Undefined for envFrom and whole-volume mounts: the object must exist, any key will do. */
  readonly key?: string;
  readonly path: string;
}

export const configReference: Rule = {
  id: 'k8s/config-reference',
  severity: 'error',
  description:
    'Every ConfigMap or Secret (and key) that envFrom, valueFrom or a volume refers to is in the render, or, for a Secret created outside git, declared with its keys in validate.config.yaml.',
  fix: 'correct the name or key; for a Secret created outside git, list it and its keys under `externalSecrets` in validate.config.yaml; for a reference that may be missing, set `optional: true`.',
  check(context) {
    const findings: RuleFinding[] = [];
    for (const w of workloads(context.objects)) {
      for (const ref of referencesOf(w)) {
        const problem = problemOf(ref, w.object, context);
        if (problem) findings.push(findingFor(this, w.object, problem, { path: ref.path, locate: ref.key ?? ref.name }));
      }
    }
    return findings;
  },
};

function problemOf(ref: Reference, workload: K8sObject, { objects, externalSecrets }: RuleContext): string | undefined {
  const target = findObject(objects, ref.kind, ref.name, workload.metadata.namespace);
  const what = `${ref.kind} ${ref.name}${ref.key !== undefined ? ` key "${ref.key}"` : ''}`;
  if (target) {
    const keys = ref.kind === 'Secret' ? secretKeys(target) : [...Object.keys(asRecord(target.data)), ...Object.keys(asRecord(target.binaryData))];
    if (ref.key !== undefined && !keys.includes(ref.key)) return `${what}: the rendered ${ref.kind} has no such key (it holds: ${keys.join(', ') || 'nothing'}); the pod would not start.`;
    return undefined;
  }
  if (ref.kind === 'Secret') {
    // Written by cert-manager or External Secrets from an object in the render (produced-secrets.ts).
    const produced = producedSecrets(objects, workload.metadata.namespace);
    if (produced.has(ref.name)) {
      const keys = produced.get(ref.name);
      return ref.key !== undefined && keys !== undefined && !keys.has(ref.key) ? `${what}: the ${[...objects].find((o) => o.kind === 'Certificate' && asRecord(o.spec).secretName === ref.name) ? 'Certificate' : 'ExternalSecret'} that writes this Secret produces ${[...keys].join(', ')}, not "${ref.key}".` : undefined;
    }
    const declared = externalSecrets?.get(ref.name);
    if (!declared) return `${what}: the Secret is neither in the render nor declared under externalSecrets in validate.config.yaml; the pod would not start.`;
    if (ref.key !== undefined && !declared.has(ref.key)) return `${what}: validate.config.yaml declares this external Secret with keys ${[...declared].join(', ')}, not "${ref.key}".`;
    return undefined;
  }
  return `${what}: the ConfigMap is not in the render; the pod would not start.`;
}

function referencesOf(w: Workload): Reference[] {
  const refs: Reference[] = [];
  for (const { container, field, name } of containersOf(w)) {
    const at = (suffix: string) => podPath(w, `${field}[${name}].${suffix}`);
    asArray(container.envFrom).forEach((source, index) => {
      for (const [kind, refField] of [['ConfigMap', 'configMapRef'], ['Secret', 'secretRef']] as const) {
        const ref = asRecord(source[refField]);
        const refName = asString(ref.name);
        if (refName !== undefined && ref.optional !== true) refs.push({ kind, name: refName, path: at(`envFrom[${index}].${refField}`) });
      }
    });
    for (const entry of asArray(container.env)) {
      const from = asRecord(entry.valueFrom);
      for (const [kind, refField] of [['ConfigMap', 'configMapKeyRef'], ['Secret', 'secretKeyRef']] as const) {
        const ref = asRecord(from[refField]);
        const refName = asString(ref.name);
        if (refName !== undefined && ref.optional !== true) {
          refs.push({ kind, name: refName, key: asString(ref.key) ?? '', path: at(`env[${asString(entry.name) ?? '?'}].valueFrom.${refField}`) });
        }
      }
    }
  }
  for (const volume of asArray(w.podSpec.volumes)) {
    const volumeName = asString(volume.name) ?? '?';
    const cm = asRecord(volume.configMap);
    const secret = asRecord(volume.secret);
    const add = (kind: 'ConfigMap' | 'Secret', source: Json, name: string | undefined, field: string) => {
      if (name === undefined || source.optional === true) return;
      const items = asArray(source.items);
      if (items.length === 0) refs.push({ kind, name, path: podPath(w, `volumes[${volumeName}].${field}`) });
      for (const item of items) refs.push({ kind, name, key: asString(item.key) ?? '', path: podPath(w, `volumes[${volumeName}].${field}.items`) });
    };
    add('ConfigMap', cm, asString(cm.name), 'configMap');
    add('Secret', secret, asString(secret.secretName), 'secret');
  }
  return refs;
}
