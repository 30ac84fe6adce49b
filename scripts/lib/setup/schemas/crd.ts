// CustomResourceDefinition YAML -> one strict kubeconform schema per served version.
import { parseAllDocuments } from 'yaml';
import { apiVersionOf, schemaFileName } from './naming.ts';
import type { GeneratedSchema } from './openapi.ts';
import { toStrictSchema, type JsonSchema } from './strict.ts';

interface CrdVersion {
  readonly name?: unknown;
  readonly served?: unknown;
  readonly schema?: { readonly openAPIV3Schema?: unknown };
}

interface Crd {
  readonly kind?: unknown;
  readonly spec?: {
    readonly group?: unknown;
    readonly names?: { readonly kind?: unknown };
    readonly versions?: readonly CrdVersion[];
  };
}

/** The CustomResourceDefinitions in a YAML stream (other documents are ignored). */
export function crdsInYaml(text: string, source: string): Crd[] {
  const crds: Crd[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (!('contents' in doc) || doc.contents === null) continue;
    if (doc.errors.length > 0) throw new Error(`${source}: not valid YAML: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as Crd | null;
    if (value?.kind === 'CustomResourceDefinition') crds.push(value);
  }
  return crds;
}

/**
 * Optional: the ObjectMeta schema (with what it refers to) from Kubernetes' spec, so that a custom
 * resource's `metadata` is checked as strictly as a built-in's. CRDs only say `metadata: {type: object}`.
 */
export interface ObjectMetaDefinitions {
  /** The definition name of ObjectMeta, e.g. `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`. */
  readonly root: string;
  /** Already converted (strict) definitions: ObjectMeta and everything it refers to. */
  readonly definitions: Readonly<Record<string, JsonSchema>>;
}

/** One schema per served version that has an openAPIV3Schema. */
export function schemasFromCrd(crd: Crd, objectMeta?: ObjectMetaDefinitions): GeneratedSchema[] {
  const group = typeof crd.spec?.group === 'string' ? crd.spec.group : '';
  const kind = typeof crd.spec?.names?.kind === 'string' ? crd.spec.names.kind : '';
  if (!group || !kind) return [];
  const out: GeneratedSchema[] = [];
  for (const version of crd.spec?.versions ?? []) {
    if (typeof version.name !== 'string' || version.served === false || !version.schema?.openAPIV3Schema) continue;
    const apiVersion = apiVersionOf(group, version.name);
    const root = toStrictSchema(version.schema.openAPIV3Schema, { allowNullForOptional: false }) as JsonSchema;
    const properties = { ...(root.properties as Record<string, JsonSchema> | undefined) };
    properties.apiVersion = { ...properties.apiVersion, type: 'string', enum: [apiVersion] };
    properties.kind = { ...properties.kind, type: 'string', enum: [kind] };
    const strictMeta = objectMeta && isLooseObject(properties.metadata);
    if (strictMeta) properties.metadata = { $ref: `#/definitions/${objectMeta.root}` };
    out.push({
      fileName: schemaFileName(kind, apiVersion),
      kind,
      apiVersion,
      schema: {
        ...root,
        properties,
        // The root of a custom resource is pruned by the API server like any object: strict.
        ...(isPreserveUnknown(version.schema.openAPIV3Schema) || 'additionalProperties' in root ? {} : { additionalProperties: false }),
        ...(strictMeta ? { definitions: { ...objectMeta.definitions } } : {}),
      },
    });
  }
  return out;
}

function isPreserveUnknown(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && (schema as JsonSchema)['x-kubernetes-preserve-unknown-fields'] === true;
}

/** `metadata: {type: object}` with nothing else said: what controller-gen writes. */
function isLooseObject(schema: JsonSchema | undefined): boolean {
  if (!schema) return true;
  return !('properties' in schema) && !('$ref' in schema) && !('allOf' in schema);
}
