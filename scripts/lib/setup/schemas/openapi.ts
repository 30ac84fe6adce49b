// Kubernetes' OpenAPI v3 documents (one per group version: api/openapi-spec/v3 in the
// k8s.io/kubernetes module, or `kubectl get --raw /openapi/v3/<path>` from a live cluster) ->
// one strict kubeconform schema per kind.
import { apiVersionOf, schemaFileName } from './naming.ts';
import { referencedNames, toStrictSchema, type JsonSchema } from './strict.ts';

export interface OpenApiV3Document {
  readonly components?: { readonly schemas?: Readonly<Record<string, JsonSchema>> };
}

export interface GeneratedSchema {
  /** `deployment-apps-v1.json` */
  readonly fileName: string;
  readonly kind: string;
  readonly apiVersion: string;
  readonly schema: JsonSchema;
}

interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

function gvksOf(component: JsonSchema): GroupVersionKind[] {
  const list = component['x-kubernetes-group-version-kind'];
  if (!Array.isArray(list)) return [];
  return list.filter(
    (g): g is GroupVersionKind => typeof g === 'object' && g !== null && typeof g.version === 'string' && typeof g.kind === 'string' && typeof g.group === 'string',
  );
}

/**
 * Types that carry a group-version-kind but are never applied as manifests: the meta types
 * (DeleteOptions, WatchEvent, Status... list every group version) and the `...List` wrappers
 * (kubeconform splits `kind: List` into its items itself).
 */
function isManifestKind(componentName: string, component: JsonSchema, kind: string): boolean {
  if (componentName.startsWith('io.k8s.apimachinery.pkg.apis.meta.')) return false;
  const properties = component.properties;
  const isList = kind.endsWith('List') && typeof properties === 'object' && properties !== null && 'items' in properties;
  return !isList;
}

/** `name` and every component it reaches through $refs. */
export function closure(name: string, components: Readonly<Record<string, JsonSchema>>): string[] {
  const seen = new Set<string>();
  const queue = [name];
  while (queue.length > 0) {
    const next = queue.pop()!;
    if (seen.has(next) || !components[next]) continue;
    seen.add(next);
    for (const ref of referencedNames(components[next])) if (!seen.has(ref)) queue.push(ref);
  }
  return [...seen].sort();
}

/** The kind's own schema at the root, what it refers to under `definitions`, and apiVersion/kind pinned. */
export function kindSchema(
  componentName: string,
  components: Readonly<Record<string, JsonSchema>>,
  gvk: GroupVersionKind,
  convert: (componentName: string) => JsonSchema,
): JsonSchema {
  const root = convert(componentName);
  const apiVersion = apiVersionOf(gvk.group, gvk.version);
  const properties = { ...(root.properties as Record<string, JsonSchema> | undefined) };
  if (properties.apiVersion) properties.apiVersion = { ...properties.apiVersion, type: 'string', enum: [apiVersion] };
  if (properties.kind) properties.kind = { ...properties.kind, type: 'string', enum: [gvk.kind] };
  const definitions = Object.fromEntries(
    closure(componentName, components)
      .filter((name) => name !== componentName || referencedNames(components[componentName]).has(componentName))
      .map((name) => [name, convert(name)]),
  );
  return {
    ...root,
    properties,
    ...(Object.keys(definitions).length > 0 ? { definitions } : {}),
  };
}

const SCALAR_TYPES: ReadonlySet<unknown> = new Set(['string', 'integer', 'number', 'boolean']);

/**
 * A named type, converted. A scalar type (Time, MicroTime) also accepts null: it is only ever used
 * for optional fields, and `creationTimestamp: null` is what kubectl and many generators write.
 */
export function convertComponent(component: JsonSchema | undefined): JsonSchema {
  const schema = toStrictSchema(component ?? {}, { allowNullForOptional: true }) as JsonSchema;
  if (SCALAR_TYPES.has(schema.type)) return { ...schema, type: [schema.type, 'null'] };
  return schema;
}

/**
 * Every kind the documents define, once (the first document that defines a kind wins; documents
 * are taken in the order given, so sort them for a reproducible result).
 */
export function schemasFromOpenApiV3(documents: readonly OpenApiV3Document[]): GeneratedSchema[] {
  const byFile = new Map<string, GeneratedSchema>();
  for (const doc of documents) {
    const components = doc.components?.schemas ?? {};
    // A type such as PodSpec is shared by many kinds: convert it once per document.
    const converted = new Map<string, JsonSchema>();
    const convert = (name: string): JsonSchema => {
      let schema = converted.get(name);
      if (!schema) converted.set(name, (schema = convertComponent(components[name])));
      return schema;
    };
    for (const [name, component] of Object.entries(components)) {
      for (const gvk of gvksOf(component)) {
        if (!isManifestKind(name, component, gvk.kind)) continue;
        const apiVersion = apiVersionOf(gvk.group, gvk.version);
        const fileName = schemaFileName(gvk.kind, apiVersion);
        if (byFile.has(fileName)) continue;
        byFile.set(fileName, { fileName, kind: gvk.kind, apiVersion, schema: kindSchema(name, components, gvk, convert) });
      }
    }
  }
  return [...byFile.values()].sort((a, b) => a.fileName.localeCompare(b.fileName));
}

export const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** ObjectMeta and what it refers to, converted, from the first document that has it. */
export function objectMetaDefinitions(documents: readonly OpenApiV3Document[]): { root: string; definitions: Record<string, JsonSchema> } | undefined {
  const doc = documents.find((d) => d.components?.schemas?.[OBJECT_META]);
  const components = doc?.components?.schemas;
  if (!components) return undefined;
  const definitions = Object.fromEntries(
    closure(OBJECT_META, components).map((name) => [name, convertComponent(components[name])]),
  );
  return { root: OBJECT_META, definitions };
}
