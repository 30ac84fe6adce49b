// The one wrapper around the kubeconform binary. It only ever reads the local schemas the set-up
// generated (.tools/schemas): nothing is downloaded at validate time.
import path from 'node:path';
import { $ } from 'zx/core';
import { ToolError, UserError } from '../cli/errors.ts';
import { displayPath } from '../util/paths.ts';
import { CRD_FOLDER, kubernetesFolderName, schemaDirFor } from '../setup/schema-location.ts';
import { KUBECONFORM } from '../setup/tool-versions.ts';
import { findPinnedBinary, pinnedPath } from './pinned-binary.ts';

export interface Kubeconform {
  readonly binary: string;
  /** The pinned version when the set-up built it (go install builds report `development`), else what `-v` prints. */
  readonly version: string;
}

export type KubeconformStatus = 'statusValid' | 'statusInvalid' | 'statusError' | 'statusSkipped' | 'statusEmpty';

export interface KubeconformResource {
  /** `stdin`: the stream is passed on standard input. */
  filename: string;
  kind: string;
  name: string;
  /** The apiVersion, e.g. `apps/v1`. */
  version: string;
  status: KubeconformStatus;
  msg: string;
  /** For statusInvalid: JSON-pointer-like paths into the object (`/spec`, `` for the root) and what is wrong there. */
  validationErrors: { path: string; msg: string }[];
}

export interface KubeconformRun {
  /** `1.37`, `1.37.2` or `v1.37.2`; a minor maps to the pinned patch (scripts/lib/setup/tool-versions.ts). */
  kubernetesVersion: string;
  /** The schema root; default .tools/schemas. */
  schemaDir?: string;
}

/** The pinned kubeconform the set-up installed, else kubeconform on PATH. */
export async function findKubeconform(): Promise<Kubeconform> {
  const found = await findPinnedBinary(KUBECONFORM, { args: ['-v'] });
  if (found) return { binary: found.binary, version: found.version };
  throw new ToolError(
    `kubeconform not found: neither ${displayPath(pinnedPath(KUBECONFORM))} nor kubeconform on PATH.\n` +
      `Fix: run \`npm ci\` (or \`npm run setup\`), which installs kubeconform ${KUBECONFORM.version} with Go and generates the schemas.`,
  );
}

/**
 * One worker: kubeconform then reports resources in the order of the stream, so each result maps
 * to its document even when two share a kind and name (two namespaces). A second worker gained
 * nothing measurable (an overlay validates in ~60 ms, dominated by schema compilation that the
 * workers would share), and `validate` already runs one kubeconform per overlay in parallel.
 */
export const KUBECONFORM_WORKERS = 1;

/**
 * The schema-location templates: the built-in kinds of one Kubernetes release first, then the CRDs.
 * Both are local paths; kubeconform's default (a GitHub URL) is never used because a location is
 * always given.
 */
export function schemaLocations(schemaDir: string): string[] {
  return [
    path.join(schemaDir, '{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}', '{{ .ResourceKind }}{{ .KindSuffix }}.json'),
    path.join(schemaDir, CRD_FOLDER, '{{ .ResourceKind }}{{ .KindSuffix }}.json'),
  ];
}

/** kubeconform's arguments for a stream on stdin. `kubernetesVersion` must be a full release (`1.37.2`). */
export function buildKubeconformArgs(run: KubeconformRun & { schemaDir: string }): string[] {
  const version = run.kubernetesVersion.replace(/^v/, '');
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new UserError(`kubeconform needs a full Kubernetes release such as 1.37.2, not "${run.kubernetesVersion}" (resolve it with schemaDirFor).`);
  }
  return [
    '-strict',
    '-output',
    'json',
    // One entry per resource, valid ones included, so the caller can tell "checked" from "missing".
    '-verbose',
    '-kubernetes-version',
    version,
    ...schemaLocations(run.schemaDir).flatMap((location) => ['-schema-location', location]),
    '-n',
    String(KUBECONFORM_WORKERS),
    '-',
  ];
}

const STATUSES: ReadonlySet<string> = new Set(['statusValid', 'statusInvalid', 'statusError', 'statusSkipped', 'statusEmpty']);

/**
 * kubeconform's `-output json` (`{"resources": [...]}`). An empty document comes with status `""`;
 * it is reported as statusEmpty.
 */
export function parseKubeconformOutput(stdout: string): KubeconformResource[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new ToolError(`kubeconform printed output that is not JSON:\n${stdout.slice(0, 500)}`);
  }
  const resources = (parsed as { resources?: unknown }).resources;
  if (!Array.isArray(resources)) throw new ToolError(`kubeconform's JSON output has no "resources" list:\n${stdout.slice(0, 500)}`);
  return resources.map((r: Record<string, unknown>) => {
    const status = typeof r.status === 'string' && r.status !== '' ? r.status : 'statusEmpty';
    if (!STATUSES.has(status)) throw new ToolError(`kubeconform reported an unknown status "${status}"`);
    const errors = Array.isArray(r.validationErrors) ? (r.validationErrors as Record<string, unknown>[]) : [];
    const validationErrors = errors.map((e) => ({ path: String(e.path ?? ''), msg: String(e.msg ?? '') }));
    const msg = String(r.msg ?? '');
    const leaves = leafErrors(msg);
    return {
      filename: String(r.filename ?? ''),
      kind: String(r.kind ?? ''),
      name: String(r.name ?? ''),
      version: String(r.version ?? ''),
      status: status as KubeconformStatus,
      // "Check JSON formatting" is misleading: the JSON is fine, the object does not match its schema.
      msg: msg.replace(/^problem validating schema\. Check JSON formatting: /, ''),
      // kubeconform lists only the first level of errors ("/spec: validation failed"); the leaves
      // (in its message) name the field that is wrong.
      validationErrors: leaves.length > 0 ? leaves : validationErrors,
    };
  });
}

/**
 * The innermost errors of kubeconform's message, where the JSON schema library's error tree is
 * flattened to one line: `... - at '/spec': validation failed   - at '/spec': additional properties
 * 'replicass' not allowed`. The indentation before each `- at` gives the depth; an entry with no
 * deeper entry after it is a leaf.
 */
export function leafErrors(msg: string): { path: string; msg: string }[] {
  const entry = /( *)- at '([^']*)': /g;
  const found: { depth: number; path: string; start: number; end: number }[] = [];
  for (let m = entry.exec(msg); m !== null; m = entry.exec(msg)) {
    found.push({ depth: m[1]!.length, path: m[2]!, start: m.index, end: m.index + m[0].length });
  }
  return found
    .map((f, i) => ({ ...f, text: msg.slice(f.end, found[i + 1]?.start ?? msg.length).trim() }))
    .filter((f, i) => (found[i + 1]?.depth ?? -1) <= f.depth)
    .map((f) => ({ path: f.path, msg: f.text }))
    // The schema library visits properties in map order, which changes from run to run.
    .sort((a, b) => a.path.localeCompare(b.path) || a.msg.localeCompare(b.msg));
}

/**
 * kubeconform's message for a kind without a schema is "could not find schema for Kind"; say which
 * apiVersion, where we looked and what to do.
 */
export function explainMissingSchema(resource: KubeconformResource, kubernetesVersion: string, schemaDir: string): string {
  const group = resource.version.includes('/') ? resource.version.split('/')[0]! : '';
  const file = `${resource.kind.toLowerCase()}-${group ? `${group.split('.')[0]!.toLowerCase()}-` : ''}${resource.version.split('/').at(-1)!.toLowerCase()}.json`;
  const where = `${displayPath(path.join(schemaDir, kubernetesFolderName(kubernetesVersion)))} or ${displayPath(path.join(schemaDir, CRD_FOLDER))}`;
  const builtIn = group === '' || group.endsWith('.k8s.io') || !group.includes('.');
  return (
    `no schema for ${resource.kind} (apiVersion ${resource.version}) for Kubernetes ${kubernetesVersion}: looked for ${file} in ${where}. ` +
    (builtIn
      ? `If this is a built-in kind, Kubernetes ${kubernetesVersion} does not serve ${resource.version} (removed or not yet added): use the apiVersion it serves. `
      : '') +
    'If it is a custom resource, add its CRD to CRD_SOURCES in scripts/lib/setup/tool-versions.ts and run `npm run schemas` (docs/schemas.md, "Add a CRD"), ' +
    "or generate schemas from your cluster's /openapi/v3."
  );
}

/** Strict mode rejects a key given twice in one mapping; kubectl would silently keep the last one. */
export function explainDuplicateKey(msg: string): string | undefined {
  const m = /line (\d+): key "([^"]+)" already set in map/.exec(msg);
  if (!m) return undefined;
  return (
    `duplicate key "${m[2]}" (line ${m[1]} of this object's document): strict validation rejects it, ` +
    'because kubectl and the API server would silently keep only the last value. Remove one of the two.'
  );
}

/**
 * Validates a rendered multi-document YAML stream (passed on stdin, so kubeconform reports the
 * filename `stdin`). Returns one entry per resource, in the order of the stream (see KUBECONFORM_WORKERS). Exit 1 from
 * kubeconform means "some resources are invalid" and is an answer; anything else is a tool failure.
 */
export async function validateManifests(k: Kubeconform, yaml: string, run: KubeconformRun): Promise<KubeconformResource[]> {
  const location = schemaDirFor(run.kubernetesVersion, run.schemaDir);
  const args = buildKubeconformArgs({ kubernetesVersion: location.kubernetesVersion, schemaDir: location.dir });
  const out = await $({ quiet: true, nothrow: true, input: yaml })`${k.binary} ${args}`;
  if (out.exitCode !== 0 && out.exitCode !== 1) {
    const why = out.exitCode === null ? `was killed (${out.signal ?? 'unknown signal'})` : `exited ${out.exitCode}`;
    throw new ToolError(`kubeconform (${k.binary}) ${why}:\n${out.stderr.trim()}\nFix: run \`npm run setup\` again.`);
  }
  if (out.stdout.trim() === '') {
    // Exit 1 with nothing on stdout: kubeconform rejected its own arguments.
    throw new ToolError(`kubeconform (${k.binary}) failed: ${out.stderr.trim() || `exit ${out.exitCode}, no output`}\nFix: run \`npm run setup\` again.`);
  }
  const results = parseKubeconformOutput(out.stdout).map((r) => {
    if (r.status !== 'statusError') return r;
    if (/^could not find schema for /.test(r.msg)) return { ...r, msg: explainMissingSchema(r, location.kubernetesVersion, location.dir) };
    return { ...r, msg: explainDuplicateKey(r.msg) ?? r.msg };
  });
  return results;
}
