// The one wrapper around the oras CLI (oras.land): push files as an OCI artifact, move tags, read a
// manifest back. A registry that refuses is an answer (`ok: false` with oras' message), not an
// exception; only a missing or broken oras is a ToolError.
import { $ } from 'zx/core';
import { ToolError } from '../cli/errors.ts';
import { ORAS } from '../setup/tool-versions.ts';
import { findPinnedBinary, pinnedPath, type FoundBinary } from './pinned-binary.ts';

/** How oras talks to the registry: plain HTTP (a lab or a test registry), or TLS with a CA file; neither: TLS with the system's CAs. */
export interface RegistryTransport {
  readonly plainHttp?: boolean;
  readonly caFile?: string;
}

export interface OrasFile {
  /** A path; oras records its base name as the layer's `org.opencontainers.image.title`. */
  readonly path: string;
  readonly mediaType: string;
}

export interface PushRequest {
  /** `host[:port]/repository`, without a tag: the manifest is pushed by digest only. */
  readonly repository: string;
  readonly files: readonly OrasFile[];
  readonly artifactType?: string;
  readonly config?: OrasFile;
  /** Manifest annotations. Give `org.opencontainers.image.created` to keep oras from stamping the current time. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** oras reads paths relative to it and writes them into the layer titles as given. */
  readonly cwd: string;
}

export type OrasResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

export interface PushedManifest {
  /** `sha256:...` of the manifest. */
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
}

/** The pinned oras from .tools/bin, else one on PATH; a ToolError naming the set-up otherwise. */
export async function findOras(): Promise<FoundBinary> {
  const found = await findPinnedBinary(ORAS, { args: ['version'], parse: (out) => /Version:\s*(\S+)/.exec(out)?.[1] });
  if (found) return found;
  throw new ToolError(`oras not found: neither ${pinnedPath(ORAS)} nor oras on PATH.\nFix: run \`npm run setup\`, which installs oras ${ORAS.version} with Go; or put oras on PATH.`);
}

export function transportFlags(t: RegistryTransport): string[] {
  return [...(t.plainHttp ? ['--plain-http'] : []), ...(t.caFile ? ['--ca-file', t.caFile] : [])];
}

function run(cwd?: string) {
  // Never a terminal here (zx pipes stdout), so oras prints no progress bars; push and blob fetch also get --no-tty.
  return $({ quiet: true, nothrow: true, ...(cwd ? { cwd } : {}), timeout: '120s' });
}

function failure(out: { exitCode: number | null; stderr: string; stdout: string }): string {
  const text = (out.stderr.trim() || out.stdout.trim()).replace(/^Error:\s*/m, '');
  return out.exitCode === null ? `oras did not finish in 120 s: ${text}` : text || `oras exited ${out.exitCode} without a message`;
}

/** `oras push REPOSITORY FILE:TYPE ...` without a tag: uploads blobs and the manifest, moves no tag. */
export async function orasPush(oras: FoundBinary, t: RegistryTransport, req: PushRequest): Promise<OrasResult<PushedManifest>> {
  const annotations = Object.entries(req.annotations ?? {}).flatMap(([k, v]) => ['--annotation', `${k}=${v}`]);
  const argv = [
    oras.binary,
    'push',
    '--no-tty',
    '--format',
    'json',
    ...transportFlags(t),
    ...(req.artifactType ? ['--artifact-type', req.artifactType] : []),
    ...(req.config ? ['--config', `${req.config.path}:${req.config.mediaType}`] : []),
    ...annotations,
    req.repository,
    ...req.files.map((f) => `${f.path}:${f.mediaType}`),
  ];
  const out = await run(req.cwd)`${argv}`;
  if (out.exitCode !== 0) return { ok: false, message: failure(out) };
  const pushed = parsePushOutput(out.stdout);
  if (!pushed) throw new ToolError(`oras push printed no manifest digest (oras ${oras.version}); its output was:\n${out.stdout.trim()}\nFix: use the pinned oras ${ORAS.version} (\`npm run setup\`).`);
  return { ok: true, value: pushed };
}

/** `oras push --format json` prints the pushed manifest's descriptor. */
export function parsePushOutput(stdout: string): PushedManifest | undefined {
  try {
    const json = JSON.parse(stdout) as { digest?: unknown; mediaType?: unknown; size?: unknown };
    if (typeof json.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(json.digest)) return undefined;
    return { digest: json.digest, mediaType: String(json.mediaType ?? ''), size: Number(json.size ?? 0) };
  } catch {
    return undefined;
  }
}

/** `oras tag REPOSITORY@DIGEST TAG ...`: points every tag at the manifest (one PUT per tag). */
export async function orasTag(oras: FoundBinary, t: RegistryTransport, repository: string, digest: string, tags: readonly string[]): Promise<OrasResult<readonly string[]>> {
  const out = await run()`${[oras.binary, 'tag', ...transportFlags(t), `${repository}@${digest}`, ...tags]}`;
  return out.exitCode === 0 ? { ok: true, value: tags } : { ok: false, message: failure(out) };
}

/** `oras resolve REFERENCE`: the manifest digest a tag points at; `ok: false` when there is none. */
export async function orasResolve(oras: FoundBinary, t: RegistryTransport, reference: string): Promise<OrasResult<string>> {
  const out = await run()`${[oras.binary, 'resolve', ...transportFlags(t), reference]}`;
  return out.exitCode === 0 ? { ok: true, value: out.stdout.trim() } : { ok: false, message: failure(out) };
}

/** `oras manifest fetch REFERENCE`: the manifest's JSON. */
export async function orasFetchManifest(oras: FoundBinary, t: RegistryTransport, reference: string): Promise<OrasResult<Record<string, unknown>>> {
  const out = await run()`${[oras.binary, 'manifest', 'fetch', ...transportFlags(t), reference]}`;
  if (out.exitCode !== 0) return { ok: false, message: failure(out) };
  return { ok: true, value: JSON.parse(out.stdout) as Record<string, unknown> };
}

/** `oras blob fetch --output - REPOSITORY@DIGEST`: one blob's bytes. */
export async function orasFetchBlob(oras: FoundBinary, t: RegistryTransport, repository: string, digest: string): Promise<OrasResult<Buffer>> {
  const out = await run()`${[oras.binary, 'blob', 'fetch', '--no-tty', ...transportFlags(t), '--output', '-', `${repository}@${digest}`]}`;
  if (out.exitCode !== 0) return { ok: false, message: failure(out) };
  return { ok: true, value: out.buffer() };
}
