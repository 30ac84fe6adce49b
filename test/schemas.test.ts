// Schema generation: file naming (what kubeconform looks up), the strict conversion, the
// OpenAPI/CRD readers, version resolution, and `npm run schemas -- --from-openapi-v3`.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../scripts/lib/cli/errors.ts';
import { findKubeconform, validateManifests } from '../scripts/lib/tools/kubeconform.ts';
import { crdsInYaml, schemasFromCrd } from '../scripts/lib/setup/schemas/crd.ts';
import { generatedVersions, kubernetesFolderName, PINNED_KUBERNETES_PATCHES, schemaDirFor, SCHEMAS_DIR, SUPPORTED_KUBERNETES_VERSIONS, DEFAULT_KUBERNETES_VERSION } from '../scripts/lib/setup/schema-location.ts';
import { apiVersionOf, schemaFileName } from '../scripts/lib/setup/schemas/naming.ts';
import { objectMetaDefinitions, schemasFromOpenApiV3, type OpenApiV3Document } from '../scripts/lib/setup/schemas/openapi.ts';
import { toStrictSchema, type JsonSchema } from '../scripts/lib/setup/schemas/strict.ts';
import { pickLatestPatch, pinnedStamp, readClusterOpenApiV3Dir, versionFromVersionJson, writeSchemaFolder } from '../scripts/lib/setup/schemas/generate.ts';
import { runScript } from './helpers/run.ts';
import { useTempDirs } from './helpers/tmp.ts';
import { asCommandError } from './helpers/user-error.ts';

const tempDir = useTempDirs();
const strict = (node: unknown) => toStrictSchema(node, { allowNullForOptional: false }) as JsonSchema;

describe('schemaFileName (the file kubeconform looks up with {{ .ResourceKind }}{{ .KindSuffix }}.json)', () => {
  it.each([
    ['Service', 'v1', 'service-v1.json'],
    ['Deployment', 'apps/v1', 'deployment-apps-v1.json'],
    ['NetworkPolicy', 'networking.k8s.io/v1', 'networkpolicy-networking-v1.json'],
    ['PodDisruptionBudget', 'policy/v1', 'poddisruptionbudget-policy-v1.json'],
    ['Application', 'argoproj.io/v1alpha1', 'application-argoproj-v1alpha1.json'],
    ['Kustomization', 'kustomize.toolkit.fluxcd.io/v1', 'kustomization-kustomize-v1.json'],
    ['ExternalSecret', 'external-secrets.io/v1', 'externalsecret-external-secrets-v1.json'],
  ])('%s %s -> %s', (kind, apiVersion, file) => {
    expect(schemaFileName(kind, apiVersion)).toBe(file);
  });

  it('joins group and version like an apiVersion', () => {
    expect(apiVersionOf('', 'v1')).toBe('v1');
    expect(apiVersionOf('apps', 'v1')).toBe('apps/v1');
  });

  it('puts each Kubernetes release in the folder kubeconform derives from -kubernetes-version', () => {
    expect(kubernetesFolderName('1.37.2')).toBe('v1.37.2-standalone-strict');
    expect(kubernetesFolderName('v1.35.4')).toBe('v1.35.4-standalone-strict');
  });
});

describe('toStrictSchema', () => {
  it('closes objects that list their properties', () => {
    const out = strict({ type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'string' } } } } });
    expect(out.additionalProperties).toBe(false);
    expect((out.properties as Record<string, JsonSchema>).a!.additionalProperties).toBe(false);
  });

  it('leaves maps (additionalProperties given) and x-kubernetes-preserve-unknown-fields open', () => {
    const out = strict({
      type: 'object',
      properties: {
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        values: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'string' } } },
      },
    });
    const props = out.properties as Record<string, JsonSchema>;
    expect(props.labels!.additionalProperties).toEqual({ type: 'string' });
    expect(props.values).not.toHaveProperty('additionalProperties');
    expect(props.values).not.toHaveProperty('x-kubernetes-preserve-unknown-fields');
  });

  it('turns int-or-string (CRD extension and built-in format) into integer-or-string', () => {
    expect(strict({ 'x-kubernetes-int-or-string': true })).toEqual({ anyOf: [{ type: 'integer' }, { type: 'string' }] });
    const crdStyle = strict({ 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }], pattern: '^\\d+%$' });
    expect(crdStyle).toEqual({ anyOf: [{ type: 'integer' }, { type: 'string' }], pattern: '^\\d+%$' });
    expect(strict({ format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] })).toEqual({ oneOf: [{ type: 'integer' }, { type: 'string' }] });
  });

  it('points references at local definitions and drops the allOf wrapper around a lone $ref', () => {
    const out = strict({ properties: { spec: { allOf: [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec' }], default: {} } } });
    expect((out.properties as Record<string, JsonSchema>).spec).toEqual({ $ref: '#/definitions/io.k8s.api.apps.v1.DeploymentSpec', default: {} });
  });

  it('handles nullable, embedded resources and set lists', () => {
    expect(strict({ type: 'string', nullable: true })).toEqual({ type: ['string', 'null'] });
    const embedded = strict({ type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object' } } });
    expect(Object.keys(embedded.properties as object).sort()).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(strict({ type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' }).uniqueItems).toBe(true);
  });

  it('accepts null for optional built-in fields only when asked', () => {
    const node = { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer' } } };
    const lenient = toStrictSchema(node, { allowNullForOptional: true }) as JsonSchema;
    expect((lenient.properties as Record<string, JsonSchema>).name!.type).toBe('string');
    expect((lenient.properties as Record<string, JsonSchema>).port!.type).toEqual(['integer', 'null']);
    expect((strict(node).properties as Record<string, JsonSchema>).port!.type).toBe('integer');
  });
});

/** A small OpenAPI v3 document in the shape of Kubernetes' own (and a cluster's /openapi/v3/...). */
const WIDGET_DOC: OpenApiV3Document = {
  components: {
    schemas: {
      'com.example.v1.Widget': {
        type: 'object',
        'x-kubernetes-group-version-kind': [{ group: 'example.com', version: 'v1', kind: 'Widget' }],
        properties: {
          apiVersion: { type: 'string' },
          kind: { type: 'string' },
          metadata: { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }] },
          spec: { allOf: [{ $ref: '#/components/schemas/com.example.v1.WidgetSpec' }] },
        },
      },
      'com.example.v1.WidgetSpec': {
        type: 'object',
        properties: {
          replicas: { type: 'integer', format: 'int32' },
          port: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString' },
          children: { type: 'array', items: { $ref: '#/components/schemas/com.example.v1.WidgetSpec' } },
        },
      },
      'com.example.v1.WidgetList': {
        type: 'object',
        'x-kubernetes-group-version-kind': [{ group: 'example.com', version: 'v1', kind: 'WidgetList' }],
        properties: { items: { type: 'array', items: { $ref: '#/components/schemas/com.example.v1.Widget' } } },
      },
      'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions': {
        type: 'object',
        'x-kubernetes-group-version-kind': [{ group: 'example.com', version: 'v1', kind: 'DeleteOptions' }],
        properties: { dryRun: { type: 'array', items: { type: 'string' } } },
      },
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
        type: 'object',
        properties: {
          name: { type: 'string' },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          creationTimestamp: { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time' }] },
        },
      },
      'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
      'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] },
    },
  },
};

describe('schemasFromOpenApiV3', () => {
  it('writes one schema per kind, without List wrappers and meta types', () => {
    expect(schemasFromOpenApiV3([WIDGET_DOC]).map((s) => s.fileName)).toEqual(['widget-example-v1.json']);
  });

  it('carries what the kind refers to under definitions (recursion included) and pins apiVersion and kind', () => {
    const [widget] = schemasFromOpenApiV3([WIDGET_DOC]);
    const schema = widget!.schema;
    expect(Object.keys(schema.definitions as object).sort()).toEqual([
      'com.example.v1.WidgetSpec',
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
      'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
      'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
    ]);
    const props = schema.properties as Record<string, JsonSchema>;
    expect(props.apiVersion!.enum).toEqual(['example.com/v1']);
    expect(props.kind!.enum).toEqual(['Widget']);
    expect(schema.additionalProperties).toBe(false);
    // Time is only used for optional fields: `creationTimestamp: null` is accepted.
    expect((schema.definitions as Record<string, JsonSchema>)['io.k8s.apimachinery.pkg.apis.meta.v1.Time']!.type).toEqual(['string', 'null']);
    expect(JSON.stringify(schema)).not.toContain('#/components/');
  });

  it('takes ObjectMeta for custom resources from the spec', () => {
    const meta = objectMetaDefinitions([WIDGET_DOC]);
    expect(meta?.root).toBe('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    expect(Object.keys(meta!.definitions)).toContain('io.k8s.apimachinery.pkg.apis.meta.v1.Time');
  });
});

const GADGET_CRD = `---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  names: {kind: Gadget, plural: gadgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            apiVersion: {type: string}
            kind: {type: string}
            metadata: {type: object}
            spec:
              type: object
              properties:
                size: {type: integer}
                port:
                  x-kubernetes-int-or-string: true
                  anyOf: [{type: integer}, {type: string}]
                values:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
    - name: v1beta1
      served: false
      storage: false
      schema:
        openAPIV3Schema: {type: object}
`;

describe('schemasFromCrd', () => {
  it('writes one schema per served version, named as kubeconform looks it up', () => {
    const [crd] = crdsInYaml(GADGET_CRD, 'fixture');
    expect(schemasFromCrd(crd!).map((s) => s.fileName)).toEqual(['gadget-example-v1.json']);
  });

  it('checks metadata as ObjectMeta when given one', () => {
    const [crd] = crdsInYaml(GADGET_CRD, 'fixture');
    const [gadget] = schemasFromCrd(crd!, objectMetaDefinitions([WIDGET_DOC]));
    expect((gadget!.schema.properties as Record<string, JsonSchema>).metadata).toEqual({ $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' });
  });
});

describe('strict schemas, as kubeconform applies them', () => {
  it('rejects an unknown field, accepts preserve-unknown-fields content and int-or-string values', async () => {
    const root = await tempDir();
    const [crd] = crdsInYaml(GADGET_CRD, 'fixture');
    await writeSchemaFolder(root, kubernetesFolderName('1.30.0'), schemasFromCrd(crd!, objectMetaDefinitions([WIDGET_DOC])));
    const k = await findKubeconform();
    const doc = (spec: string, meta = 'name: g') => `---\napiVersion: example.com/v1\nkind: Gadget\nmetadata: {${meta}}\nspec: ${spec}\n`;
    const results = await validateManifests(
      k,
      [
        doc('{size: 1, port: 8080, values: {anything: {goes: [1, 2]}}}'),
        doc('{size: 1, port: mqtt}'),
        doc('{size: 1, sise: 2}'),
        doc('{port: 1.5}'),
        doc('{}', 'name: g, lables: {}'),
      ].join(''),
      { kubernetesVersion: '1.30', schemaDir: root },
    );
    expect(results.map((r) => r.status)).toEqual(['statusValid', 'statusValid', 'statusInvalid', 'statusInvalid', 'statusInvalid']);
    expect(results[2]!.validationErrors).toEqual([{ path: '/spec', msg: "additional properties 'sise' not allowed" }]);
    expect(results[4]!.validationErrors).toEqual([{ path: '/metadata', msg: "additional properties 'lables' not allowed" }]);
  });
});

describe('schemaDirFor', () => {
  it('maps each supported minor to its pinned patch, default included', () => {
    expect(SUPPORTED_KUBERNETES_VERSIONS).toEqual(['1.35', '1.36', '1.37']);
    expect(DEFAULT_KUBERNETES_VERSION).toBe('1.37');
    expect(PINNED_KUBERNETES_PATCHES).toEqual({ '1.35': '1.35.4', '1.36': '1.36.3', '1.37': '1.37.2' });
  });

  it('says which versions are supported and how to generate another', () => {
    expect(() => schemaDirFor('1.20')).toThrow(UserError);
    expect(() => schemaDirFor('1.20')).toThrow(/Supported minors: 1\.35, 1\.36, 1\.37.*npm run schemas -- --kubernetes-version 1\.20/s);
    expect(() => schemaDirFor('latest')).toThrow(/not a Kubernetes version/);
  });

  it('finds generated releases in another schema root by minor or exact version', async () => {
    const root = await tempDir();
    await mkdir(path.join(root, 'v1.33.1-standalone-strict'));
    await mkdir(path.join(root, 'v1.33.4-standalone-strict'));
    expect(generatedVersions(root)).toEqual(['1.33.1', '1.33.4']);
    expect(schemaDirFor('1.33', root)).toMatchObject({ dir: root, kubernetesVersion: '1.33.4' });
    expect(schemaDirFor('v1.33.1', root).kubernetesDir).toBe(path.join(root, 'v1.33.1-standalone-strict'));
    expect(() => schemaDirFor('1.34', root)).toThrow(/holds schemas for: 1\.33\.1, 1\.33\.4/);
  });

  it('resolves the pinned versions in the schemas the set-up generated', () => {
    for (const minor of SUPPORTED_KUBERNETES_VERSIONS) {
      if (!existsSync(path.join(SCHEMAS_DIR, kubernetesFolderName(PINNED_KUBERNETES_PATCHES[minor]!)))) {
        throw new Error(`the schemas for Kubernetes ${minor} are missing from .tools/schemas: run \`npm run setup\``);
      }
      expect(schemaDirFor(minor).kubernetesVersion).toBe(PINNED_KUBERNETES_PATCHES[minor]);
    }
  });
});

describe('set-up bookkeeping', () => {
  it('stamps every pin, so that a bump regenerates', () => {
    const stamp = pinnedStamp();
    expect(stamp).toContain('k8s.io/kubernetes@v1.37.2');
    expect(stamp).toContain('github.com/argoproj/argo-cd/v3@');
  });

  it('replaces a schema folder as a whole', async () => {
    const root = await tempDir();
    await writeSchemaFolder(root, 'crds', [{ fileName: 'old-v1.json', kind: 'Old', apiVersion: 'v1', schema: {} }]);
    await writeSchemaFolder(root, 'crds', [{ fileName: 'new-v1.json', kind: 'New', apiVersion: 'v1', schema: {} }]);
    expect(await readdir(path.join(root, 'crds'))).toEqual(['new-v1.json']);
    expect(await readdir(root)).toEqual(['crds']);
  });

  it('takes the newest final patch of a minor (`npm run schemas -- --kubernetes-version 1.34`)', () => {
    const list = 'k8s.io/kubernetes v1.34.0 v1.34.10 v1.34.4 v1.34.11-rc.0 v1.340.1 v1.35.0';
    expect(pickLatestPatch(list, '1.34')).toBe('1.34.10');
    expect(pickLatestPatch(list, '1.33')).toBeUndefined();
  });

  it('reads the cluster version from `kubectl get --raw /version`', () => {
    expect(versionFromVersionJson('{"major":"1","minor":"33","gitVersion":"v1.33.1-eks-abc"}')).toBe('1.33.1');
    expect(versionFromVersionJson('not json')).toBeUndefined();
  });
});

describe('npm run schemas -- --from-openapi-v3', () => {
  it("converts a cluster's saved documents into a schema root validate can use", async () => {
    const dir = await tempDir();
    const saved = path.join(dir, 'openapi');
    const out = path.join(dir, 'schemas');
    await mkdir(saved);
    await writeFile(path.join(saved, 'index.json'), JSON.stringify({ paths: { 'apis/example.com/v1': {} } }));
    await writeFile(path.join(saved, 'apis_example.com_v1.json'), JSON.stringify(WIDGET_DOC));
    await writeFile(path.join(saved, 'version.json'), JSON.stringify({ gitVersion: 'v1.33.1' }));

    const result = await runScript('schemas.ts', ['--from-openapi-v3', saved, '--out', out]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await readdir(path.join(out, 'v1.33.1-standalone-strict'))).toEqual(['widget-example-v1.json']);

    const k = await findKubeconform();
    const [valid, invalid] = await validateManifests(
      k,
      '---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {replicas: 2, port: mqtt}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: x}\nspec: {replicass: 2}\n',
      { kubernetesVersion: '1.33', schemaDir: out },
    );
    expect(valid!.status).toBe('statusValid');
    expect(invalid!.validationErrors).toEqual([{ path: '/spec', msg: "additional properties 'replicass' not allowed" }]);
  });

  it('asks for the version when the saved documents do not say it', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'apis_example.com_v1.json'), JSON.stringify(WIDGET_DOC));
    const result = await runScript('schemas.ts', ['--from-openapi-v3', dir, '--out', path.join(dir, 'out')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('kubectl get --raw /version');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('checks the directory before asking for the version: what it should hold and the kubectl commands that save it', async () => {
    const dir = await tempDir();
    const missing = path.join(dir, 'nonexistent');
    const empty = path.join(dir, 'empty');
    await mkdir(empty);
    // JSON, but not an OpenAPI v3 document (the index alone is not enough).
    await writeFile(path.join(empty, 'index.json'), JSON.stringify({ paths: { 'api/v1': {} } }));
    const file = path.join(dir, 'index.json');
    await writeFile(file, '{}');
    // One run shows the order (the directory before the version, which none of them gives); the
    // other two call what the command calls first with the directory.
    const run = (given: string) => runScript('schemas.ts', ['--from-openapi-v3', given, '--out', path.join(dir, 'out')]);
    const read = (given: string) => asCommandError(() => readClusterOpenApiV3Dir(path.resolve(given), given));
    for (const [given, problem, check] of [
      [missing, 'does not exist', run],
      [empty, 'holds no OpenAPI v3 documents', read],
      [file, 'is a file, not a directory', read],
    ] as const) {
      const result = await check(given);
      expect(result.exitCode, given).toBe(2);
      expect(result.stderr).toContain(problem);
      expect(result.stderr).toContain(`kubectl get --raw /openapi/v3 > ${given}/index.json`);
      expect(result.stderr).toContain(`kubectl get --raw /version > ${given}/version.json`);
      expect(result.stderr).toContain('kubectl get --raw "/openapi/v3/P"');
      expect(result.stderr).toContain('docs/schemas.md');
      // Not the version question, which only makes sense once the documents are there.
      expect(result.stderr).not.toContain("Kubernetes version is unknown");
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('rejects a malformed version', async () => {
    const result = await runScript('schemas.ts', ['--kubernetes-version', 'latest']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('give X.Y or X.Y.Z');
  });
});

describe('the generated CRD schemas', () => {
  it('cover every CRD kind the brief promises', async () => {
    const crdDir = path.join(SCHEMAS_DIR, 'crds');
    if (!existsSync(crdDir)) throw new Error('.tools/schemas/crds is missing: run `npm run setup`');
    const files = await readdir(crdDir);
    for (const [kind, apiVersion] of [
      ['Application', 'argoproj.io/v1alpha1'],
      ['ApplicationSet', 'argoproj.io/v1alpha1'],
      ['AppProject', 'argoproj.io/v1alpha1'],
      ['GitRepository', 'source.toolkit.fluxcd.io/v1'],
      ['OCIRepository', 'source.toolkit.fluxcd.io/v1'],
      ['Kustomization', 'kustomize.toolkit.fluxcd.io/v1'],
      ['PodMonitor', 'monitoring.coreos.com/v1'],
      ['ServiceMonitor', 'monitoring.coreos.com/v1'],
      ['Certificate', 'cert-manager.io/v1'],
      ['Issuer', 'cert-manager.io/v1'],
      ['ClusterIssuer', 'cert-manager.io/v1'],
      ['ExternalSecret', 'external-secrets.io/v1'],
      ['SecretStore', 'external-secrets.io/v1'],
      ['ClusterSecretStore', 'external-secrets.io/v1'],
    ] as const) {
      expect(files).toContain(schemaFileName(kind, apiVersion));
    }
    const application = JSON.parse(await readFile(path.join(crdDir, 'application-argoproj-v1alpha1.json'), 'utf8')) as JsonSchema;
    expect(application.additionalProperties).toBe(false);
  });
});
