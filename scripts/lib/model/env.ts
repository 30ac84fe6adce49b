// The environment a container actually sees, resolved the way the kubelet does it: envFrom first
// (in order), then env in order, each `value` expanding `$(VAR)` against what is defined above it.
// EMQX reads its whole configuration from `EMQX_*` variables, so the EMQX rules look at this, not
// at the raw manifests.
import { asArray, asRecord, asString, findObject, type Json, type K8sObject } from './object.ts';

export type EnvOrigin =
  | { readonly kind: 'literal' }
  | { readonly kind: 'configMap'; readonly name: string; readonly key: string }
  | { readonly kind: 'secret'; readonly name: string; readonly key: string }
  | { readonly kind: 'field'; readonly fieldPath: string }
  | { readonly kind: 'resource' };

export interface ResolvedVar {
  readonly name: string;
  /**
   * The effective value. What only exists at run time is a placeholder: `⟨status.podIP⟩`,
   * `⟨metadata.name⟩`, `⟨secret emqx-secrets/node-cookie⟩`. `metadata.namespace` resolves to the
   * rendered namespace when there is one.
   */
  readonly value: string;
  readonly origin: EnvOrigin;
  /** Where it is set, relative to the container: `env[EMQX_HOST]` or `envFrom[0]`. */
  readonly path: string;
}

/** A `$(VAR)` left unexpanded because VAR is not defined above the variable that uses it. */
export interface UnexpandedReference {
  readonly variable: string;
  readonly reference: string;
  /** Defined further down the list (a reorder fixes it), or not at all. */
  readonly definedLater: boolean;
  readonly path: string;
}

export interface ResolvedEnv {
  readonly vars: ReadonlyMap<string, ResolvedVar>;
  readonly unexpanded: readonly UnexpandedReference[];
}

export function placeholder(what: string): string {
  return `⟨${what}⟩`;
}

export function resolveEnv(container: Json, objects: readonly K8sObject[], namespace: string | undefined): ResolvedEnv {
  const vars = new Map<string, ResolvedVar>();
  const unexpanded: UnexpandedReference[] = [];

  asArray(container.envFrom).forEach((source, index) => {
    const prefix = asString(source.prefix) ?? '';
    const cmName = asString(asRecord(source.configMapRef).name);
    const secretName = asString(asRecord(source.secretRef).name);
    if (cmName !== undefined) {
      const cm = findObject(objects, 'ConfigMap', cmName, namespace);
      for (const [key, value] of Object.entries(asRecord(cm?.data))) {
        if (typeof value === 'string') vars.set(prefix + key, { name: prefix + key, value, origin: { kind: 'configMap', name: cmName, key }, path: `envFrom[${index}]` });
      }
    } else if (secretName !== undefined) {
      const secret = findObject(objects, 'Secret', secretName, namespace);
      for (const key of secretKeys(secret)) {
        vars.set(prefix + key, { name: prefix + key, value: placeholder(`secret ${secretName}/${key}`), origin: { kind: 'secret', name: secretName, key }, path: `envFrom[${index}]` });
      }
    }
  });

  const env = asArray(container.env);
  const laterNames = (from: number) => new Set(env.slice(from).map((e) => asString(e.name)));
  env.forEach((entry, index) => {
    const name = asString(entry.name);
    if (name === undefined) return;
    const path = `env[${name}]`;
    if (typeof entry.value === 'string' || entry.valueFrom === undefined) {
      const raw = typeof entry.value === 'string' ? entry.value : '';
      const later = laterNames(index);
      const value = expand(raw, vars, (variable, reference) =>
        unexpanded.push({ variable: name, reference, definedLater: later.has(reference), path }),
      );
      vars.set(name, { name, value, origin: { kind: 'literal' }, path });
      return;
    }
    const from = asRecord(entry.valueFrom);
    const field = asString(asRecord(from.fieldRef).fieldPath);
    const cmRef = asRecord(from.configMapKeyRef);
    const secretRef = asRecord(from.secretKeyRef);
    if (field !== undefined) {
      const value = field === 'metadata.namespace' && namespace ? namespace : placeholder(field);
      vars.set(name, { name, value, origin: { kind: 'field', fieldPath: field }, path });
    } else if (asString(cmRef.name) !== undefined) {
      const cmName = asString(cmRef.name)!;
      const key = asString(cmRef.key) ?? '';
      const data = asRecord(findObject(objects, 'ConfigMap', cmName, namespace)?.data);
      const value = typeof data[key] === 'string' ? (data[key] as string) : placeholder(`configmap ${cmName}/${key}`);
      vars.set(name, { name, value, origin: { kind: 'configMap', name: cmName, key }, path });
    } else if (asString(secretRef.name) !== undefined) {
      const secretName = asString(secretRef.name)!;
      const key = asString(secretRef.key) ?? '';
      vars.set(name, { name, value: placeholder(`secret ${secretName}/${key}`), origin: { kind: 'secret', name: secretName, key }, path });
    } else {
      vars.set(name, { name, value: placeholder('resource'), origin: { kind: 'resource' }, path });
    }
  });
  return { vars, unexpanded };
}

/**
 * Kubernetes' expansion: `$$` is a literal `$`, `$(VAR)` becomes VAR's value when VAR is defined
 * above, and stays as written otherwise.
 */
export function expand(raw: string, vars: ReadonlyMap<string, ResolvedVar>, onUndefined: (variable: string, reference: string) => void = () => {}): string {
  return raw.replace(/\$\$|\$\(([^)]*)\)/g, (match, reference: string | undefined) => {
    if (match === '$$') return '$';
    const found = reference !== undefined ? vars.get(reference) : undefined;
    if (found) return found.value;
    onUndefined(reference ?? '', reference ?? '');
    return match;
  });
}

/** The keys a rendered Secret holds (`data` and `stringData`). */
export function secretKeys(secret: K8sObject | undefined): string[] {
  if (!secret) return [];
  return [...new Set([...Object.keys(asRecord(secret.data)), ...Object.keys(asRecord(secret.stringData))])];
}
