// Turns one OpenAPI v3 schema (from Kubernetes' spec or a CRD's openAPIV3Schema) into the strict
// JSON schema (draft 4, what kubeconform compiles) that yannh/kubernetes-json-schema calls
// "standalone-strict": unknown fields are rejected wherever the API server would reject them, and
// the Kubernetes extensions (x-kubernetes-*) become plain JSON schema.

export type JsonSchema = { [key: string]: unknown };

export interface StrictOptions {
  /**
   * Accept `null` for optional fields whose schema has a plain `type`, as the API server's decoder
   * does for built-in kinds (openapi2jsonschema's allow_null_optional_fields). Not for CRDs: there
   * only `nullable: true` allows null.
   */
  readonly allowNullForOptional: boolean;
}

const COMPONENTS_PREFIX = '#/components/schemas/';
export const DEFINITIONS_PREFIX = '#/definitions/';

/** Sub-schema keywords whose values are a schema. */
const SCHEMA_VALUED = ['additionalProperties', 'items', 'not', 'additionalItems'] as const;
/** Keywords whose values are lists of schemas. */
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf'] as const;
/** Keywords whose values map names to schemas. */
const SCHEMA_MAPS = ['properties', 'patternProperties', 'definitions'] as const;

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The component names a schema refers to (`#/components/schemas/NAME` or `#/definitions/NAME`). */
export function referencedNames(node: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) referencedNames(item, into);
  } else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        const name = refName(value);
        if (name) into.add(name);
      } else {
        referencedNames(value, into);
      }
    }
  }
  return into;
}

function refName(ref: string): string | undefined {
  if (ref.startsWith(COMPONENTS_PREFIX)) return ref.slice(COMPONENTS_PREFIX.length);
  if (ref.startsWith(DEFINITIONS_PREFIX)) return ref.slice(DEFINITIONS_PREFIX.length);
  return undefined;
}

function addNullType(schema: JsonSchema): void {
  if (typeof schema.type === 'string' && schema.type !== 'null') schema.type = [schema.type, 'null'];
  else if (Array.isArray(schema.type) && !schema.type.includes('null')) schema.type = [...schema.type, 'null'];
  if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...schema.enum, null];
}

const INT_OR_STRING = [{ type: 'integer' }, { type: 'string' }];

/**
 * The conversion, applied at every level:
 * - `additionalProperties: false` on every object that lists `properties` and says nothing about
 *   additional ones, except where `x-kubernetes-preserve-unknown-fields: true` keeps unknown fields;
 * - `x-kubernetes-int-or-string` and `format: int-or-string` become "integer or string";
 * - `x-kubernetes-embedded-resource` objects also accept apiVersion, kind and metadata (the API
 *   server validates those itself);
 * - `nullable: true` adds null to the type; `x-kubernetes-list-type: set` means unique items;
 * - `$ref`s to `#/components/schemas/X` point at `#/definitions/X`, so that recursive types stay finite;
 * - the x-kubernetes-* annotations and OpenAPI-only keywords are dropped (JSON schema ignores them).
 */
export function toStrictSchema(node: unknown, options: StrictOptions): unknown {
  if (Array.isArray(node)) return node.map((item) => toStrictSchema(item, options));
  if (!isObject(node)) return node;

  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-') || key === 'nullable' || key === 'discriminator' || key === 'externalDocs' || key === 'example') continue;
    if (key === '$ref' && typeof value === 'string') {
      const name = refName(value);
      out.$ref = name ? `${DEFINITIONS_PREFIX}${name}` : value;
    } else if ((SCHEMA_VALUED as readonly string[]).includes(key)) {
      out[key] = typeof value === 'boolean' ? value : toStrictSchema(value, options);
    } else if ((SCHEMA_LISTS as readonly string[]).includes(key) && Array.isArray(value)) {
      out[key] = value.map((item) => toStrictSchema(item, options));
    } else if ((SCHEMA_MAPS as readonly string[]).includes(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, toStrictSchema(sub, options)]));
    } else {
      out[key] = value;
    }
  }

  const preserveUnknown = node['x-kubernetes-preserve-unknown-fields'] === true;

  // Kubernetes' v3 spec wraps every reference as `allOf: [{$ref}]` (to give it a description and
  // default). The wrapper adds a level to every error ("allOf failed") and checks nothing more.
  const single = Array.isArray(out.allOf) && out.allOf.length === 1 ? out.allOf[0] : undefined;
  if (isObject(single) && Object.keys(single).length === 1 && typeof single.$ref === 'string' && !('$ref' in out)) {
    delete out.allOf;
    out.$ref = single.$ref;
  }

  if (node['x-kubernetes-int-or-string'] === true || node.format === 'int-or-string') {
    // CRDs usually spell it out as anyOf integer|string (and may add a pattern for the string
    // form, which JSON schema applies to strings only); built-ins say format: int-or-string.
    if (out.format === 'int-or-string') delete out.format;
    delete out.type;
    if (!Array.isArray(out.anyOf) && !Array.isArray(out.oneOf)) out.anyOf = INT_OR_STRING;
  }

  if (node['x-kubernetes-embedded-resource'] === true && isObject(out.properties)) {
    out.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...out.properties };
  }

  if (isObject(out.properties) && !('additionalProperties' in out) && !preserveUnknown) {
    out.additionalProperties = false;
  }

  if (node.nullable === true) addNullType(out);

  if (node['x-kubernetes-list-type'] === 'set' && out.type === 'array') out.uniqueItems = true;

  if (options.allowNullForOptional && isObject(out.properties)) {
    const required = new Set(Array.isArray(out.required) ? (out.required as string[]) : []);
    for (const [name, sub] of Object.entries(out.properties)) {
      if (!required.has(name) && isObject(sub) && typeof sub.type === 'string') addNullType(sub);
    }
  }

  return out;
}
