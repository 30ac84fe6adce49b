// The impure half of schema generation: fetch the pinned modules through the Go module proxy, read
// their OpenAPI and CRD files, run the pure converters, write the folders kubeconform reads.
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { $, which } from 'zx';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { ToolError, UserError } from '../../cli/errors.ts';
import { displayPath } from '../../util/paths.ts';
import { CRD_SOURCES, KUBERNETES_RELEASES, type PinnedCrdSource } from '../tool-versions.ts';
import { downloadModule } from '../go.ts';
import { crdsInYaml, schemasFromCrd } from './crd.ts';
import { CRD_FOLDER, kubernetesFolderName, PINNED_KUBERNETES_PATCHES, DEFAULT_KUBERNETES_VERSION } from '../schema-location.ts';
import { objectMetaDefinitions, schemasFromOpenApiV3, type GeneratedSchema, type OpenApiV3Document } from './openapi.ts';

/** Bump when the conversion changes, so that the set-up regenerates schemas made by older code. */
export const GENERATOR_VERSION = 1;

/** Where Kubernetes' OpenAPI v3 documents sit in the k8s.io/kubernetes module. */
export const KUBERNETES_OPENAPI_V3 = 'api/openapi-spec/v3';

const STAMP = '.stamp.json';

/** What the stamp records: regenerate when any of it changes. */
export function pinnedStamp(): string {
  return `${JSON.stringify(
    {
      generator: GENERATOR_VERSION,
      kubernetes: KUBERNETES_RELEASES.map((r) => `${r.module}@${r.version}`),
      crds: CRD_SOURCES.map((s) => ({ module: `${s.module}@${s.version}`, files: s.files })),
    },
    null,
    2,
  )}\n`;
}

export async function isUpToDate(root: string): Promise<boolean> {
  const stamp = path.join(root, STAMP);
  if (!existsSync(stamp)) return false;
  if (!KUBERNETES_RELEASES.every((r) => existsSync(path.join(root, kubernetesFolderName(r.version))))) return false;
  if (!existsSync(path.join(root, CRD_FOLDER))) return false;
  return (await readFile(stamp, 'utf8')) === pinnedStamp();
}

/** Every `*.json` OpenAPI v3 document in a directory, in name order; files without components (an index, /version) are skipped. */
/**
 * The OpenAPI v3 documents (JSON files with "components") in `dir`. `howTo` ends the message when
 * there are none: what the directory should hold and how to get it.
 */
export async function readOpenApiV3Dir(dir: string, howTo = 'See docs/schemas.md for the kubectl commands that save them.'): Promise<OpenApiV3Document[]> {
  const fail = (problem: string) => new UserError(`${problem}${howTo.startsWith('\n') ? '' : ' '}${howTo}`);
  if (!existsSync(dir)) throw fail(`${displayPath(dir)} does not exist: give the directory the OpenAPI v3 documents were saved in.`);
  if (!statSync(dir).isDirectory()) throw fail(`${displayPath(dir)} is a file, not a directory.`);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const docs: OpenApiV3Document[] = [];
  for (const file of files) {
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(path.join(dir, file), 'utf8'));
    } catch (error) {
      throw new UserError(`${displayPath(path.join(dir, file))} is not JSON (${(error as Error).message}): save it again with \`kubectl get --raw\`.`);
    }
    if (typeof doc === 'object' && doc !== null && 'components' in doc) docs.push(doc as OpenApiV3Document);
  }
  if (docs.length === 0) {
    throw fail(`${displayPath(dir)} holds no OpenAPI v3 documents (JSON files with "components").`);
  }
  return docs;
}

/**
 * What `--from-openapi-v3 DIR` reads, and the kubectl commands that save it (docs/schemas.md,
 * "Validate against your own cluster"), with DIR as the user wrote it.
 */
export function clusterOpenApiHowTo(given: string): string {
  const at = (file: string) => (/^[\w./-]+$/.test(given) ? `${given}/${file}` : `"${given}/${file}"`);
  return [
    `--from-openapi-v3 wants a directory holding the cluster's OpenAPI v3 documents, one JSON file per API group version, and its version.json. With kubectl pointed at the cluster:`,
    `  mkdir -p ${/^[\w./-]+$/.test(given) ? given : `"${given}"`}`,
    `  kubectl get --raw /version > ${at('version.json')}`,
    `  kubectl get --raw /openapi/v3 > ${at('index.json')}`,
    `  then, for each path P under "paths" in index.json: kubectl get --raw "/openapi/v3/P" > "${given}/$(echo "P" | tr / _).json"`,
    'docs/schemas.md ("Validate against your own cluster") has the loop that does the last step.',
  ].join('\n');
}

/** A cluster's saved OpenAPI v3 directory (`--from-openapi-v3`), checked before anything else is asked of it. */
export function readClusterOpenApiV3Dir(dir: string, given: string = dir): Promise<OpenApiV3Document[]> {
  return readOpenApiV3Dir(dir, `\n\n${clusterOpenApiHowTo(given)}`);
}

/**
 * Writes `schemas` as `root/folder/<file>` so that a reader sees the old folder or the new one,
 * never a half-written one: the files go into a temporary folder beside it, which is then renamed
 * into place.
 */
export async function writeSchemaFolder(root: string, folder: string, schemas: readonly GeneratedSchema[]): Promise<string> {
  await mkdir(root, { recursive: true });
  const suffix = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const temp = path.join(root, `.${folder}.${suffix}.tmp`);
  const old = path.join(root, `.${folder}.${suffix}.old`);
  const final = path.join(root, folder);
  try {
    await mkdir(temp);
    for (const s of schemas) await writeFile(path.join(temp, s.fileName), `${JSON.stringify(s.schema)}\n`);
    if (existsSync(final)) await rename(final, old);
    await rename(temp, final);
  } finally {
    await rm(temp, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
  return final;
}

export interface GenerationReport {
  readonly folder: string;
  readonly count: number;
}

/** Schemas for one Kubernetes release (`1.37.2`) from the k8s.io/kubernetes module. */
export async function generateKubernetesSchemas(root: string, patchVersion: string): Promise<GenerationReport & { docs: OpenApiV3Document[] }> {
  const version = `v${patchVersion.replace(/^v/, '')}`;
  const dir = (await downloadModule({ module: 'k8s.io/kubernetes', version })).dir;
  const docs = await readOpenApiV3Dir(path.join(dir, KUBERNETES_OPENAPI_V3));
  const schemas = schemasFromOpenApiV3(docs);
  return { folder: await writeSchemaFolder(root, kubernetesFolderName(version), schemas), count: schemas.length, docs };
}

/** The pinned CRDs' schemas, into `root/crds`. `objectMetaFrom`: OpenAPI documents to take ObjectMeta from. */
export async function generateCrdSchemas(root: string, sources: readonly PinnedCrdSource[], objectMetaFrom: readonly OpenApiV3Document[]): Promise<GenerationReport> {
  const objectMeta = objectMetaDefinitions(objectMetaFrom);
  const schemas: GeneratedSchema[] = [];
  for (const source of sources) {
    const { dir } = await downloadModule(source);
    for (const file of source.files) {
      const full = path.join(dir, file);
      if (!existsSync(full)) {
        throw new ToolError(`${source.module}@${source.version} has no ${file}: fix CRD_SOURCES in scripts/lib/setup/tool-versions.ts (the file moved in this release).`);
      }
      const crds = crdsInYaml(await readFile(full, 'utf8'), `${source.module}@${source.version}/${file}`);
      if (crds.length === 0) throw new ToolError(`${source.module}@${source.version}/${file} holds no CustomResourceDefinition: fix CRD_SOURCES.`);
      for (const crd of crds) schemas.push(...schemasFromCrd(crd, objectMeta));
    }
  }
  return { folder: await writeSchemaFolder(root, CRD_FOLDER, schemas), count: schemas.length };
}

/**
 * What the set-up runs: every pinned Kubernetes release and the pinned CRDs, unless the stamp says
 * they are already there. Returns undefined when nothing had to be done.
 */
export async function generatePinnedSchemas(root: string, options: { force?: boolean } = {}): Promise<GenerationReport[] | undefined> {
  if (!options.force && (await isUpToDate(root))) return undefined;
  const reports: GenerationReport[] = [];
  const defaultRelease = `v${PINNED_KUBERNETES_PATCHES[DEFAULT_KUBERNETES_VERSION]!}`;
  let metaDocs: OpenApiV3Document[] = [];
  for (const release of KUBERNETES_RELEASES) {
    const { docs, ...report } = await generateKubernetesSchemas(root, release.version);
    reports.push(report);
    // Custom resources' metadata is checked against the default release's ObjectMeta.
    if (release.version === defaultRelease) metaDocs = docs;
  }
  reports.push(await generateCrdSchemas(root, CRD_SOURCES, metaDocs));
  await writeFileAtomic(path.join(root, STAMP), pinnedStamp());
  return reports;
}

/**
 * Schemas from a live cluster's OpenAPI v3 documents (built-in kinds and the cluster's own CRDs),
 * into `root/v<version>-standalone-strict`.
 */
export async function generateFromOpenApiDir(root: string, dir: string, patchVersion: string): Promise<GenerationReport> {
  return generateFromOpenApiDocs(root, await readClusterOpenApiV3Dir(dir), patchVersion);
}

/** generateFromOpenApiDir, for documents already read (readClusterOpenApiV3Dir). */
export async function generateFromOpenApiDocs(root: string, docs: readonly OpenApiV3Document[], patchVersion: string): Promise<GenerationReport> {
  const schemas = schemasFromOpenApiV3(docs);
  return { folder: await writeSchemaFolder(root, kubernetesFolderName(patchVersion), schemas), count: schemas.length };
}

/** `kubectl get --raw /version` saved as version.json: `{"gitVersion": "v1.33.1-eks-..."}` -> `1.33.1`. */
export function versionFromVersionJson(text: string): string | undefined {
  try {
    const gitVersion = (JSON.parse(text) as { gitVersion?: unknown }).gitVersion;
    return typeof gitVersion === 'string' ? /^v?(\d+\.\d+\.\d+)/.exec(gitVersion)?.[1] : undefined;
  } catch {
    return undefined;
  }
}

/** The newest patch of a minor (`1.34` -> `1.34.7`) that the module proxy serves. */
export async function latestPatch(minor: string): Promise<string> {
  const go = await which('go', { nothrow: true });
  if (!go) throw new ToolError('Go is needed to look up Kubernetes releases; install it and try again.');
  const out = await $({ quiet: true, nothrow: true, cwd: os.tmpdir(), env: { ...process.env, GOFLAGS: '-mod=mod' } })`${go} list -m -versions k8s.io/kubernetes`;
  if (out.exitCode !== 0) throw new ToolError(`go list -m -versions k8s.io/kubernetes failed: ${out.stderr.trim()}`);
  const latest = pickLatestPatch(out.stdout, minor);
  if (!latest) throw new UserError(`the Go module proxy has no release of k8s.io/kubernetes ${minor}.x: give a full version such as ${minor}.0.`);
  return latest;
}

/** From `go list -m -versions` output (`k8s.io/kubernetes v1.0.0 ... v1.34.4 v1.35.0-rc.1`), the newest final patch of a minor. */
export function pickLatestPatch(goListOutput: string, minor: string): string | undefined {
  const pattern = new RegExp(`^v(${minor.replace('.', '\\.')}\\.(\\d+))$`);
  return goListOutput
    .trim()
    .split(/\s+/)
    .map((v) => pattern.exec(v))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[2]) - Number(b[2]))
    .at(-1)?.[1];
}
