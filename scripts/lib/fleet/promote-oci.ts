// Promotion for the sites that pull from an OCI registry (inventory `oci:`): what such a site runs,
// and moving its wave tag. Its Flux reports an artifact (`wave-1@sha256:<digest>`), not a commit; the
// commit is the artifact's revision annotation, which `npm run publish` wrote, read back from the
// registry the entry names. Moving wave N is `oras tag <cluster>:<commit> wave-N` in that registry:
// the artifact `npm run publish` pushed at that commit, so the site gets the bytes the PR diff showed.
import type { Cluster } from './inventory.ts';
import { artifactRepository, commitOfRevision, commitTagName, REVISION_ANNOTATION, waveTagName } from '../model/waves.ts';
import { orasFetchManifest, orasResolve, orasTag, type RegistryTransport } from '../tools/oras.ts';
import type { FoundBinary } from '../tools/pinned-binary.ts';

export type OciCluster = Cluster & { readonly oci: NonNullable<Cluster['oci']> };

export interface RegistryAccess {
  readonly oras: FoundBinary;
  /** The CA of registries with `caSecret` (the Secret is on the site; promote runs here). */
  readonly caFile?: string;
}

export function isOciCluster(c: Cluster): c is OciCluster {
  return c.oci !== undefined;
}

/** How oras reaches the entry's registry: plain HTTP with `insecure`, else TLS (with --ca-file's CA, if given). */
export function transportOf(c: OciCluster, access: RegistryAccess): RegistryTransport {
  return c.oci.insecure ? { plainHttp: true } : access.caFile ? { caFile: access.caFile } : {};
}

/** The digest in a Flux OCI revision, `<tag>@sha256:<hex>`. */
export function digestOfRevision(revision: string | undefined): string | undefined {
  return revision ? /@(sha256:[0-9a-f]{64})$/.exec(revision)?.[1] : undefined;
}

/** The commit an artifact was rendered from (its revision annotation), or why it cannot be told. */
export async function commitOfArtifact(c: OciCluster, access: RegistryAccess, reference: string): Promise<{ commit: string } | { problem: string }> {
  const repository = artifactRepository(c.oci.registry, c.name);
  const manifest = await orasFetchManifest(access.oras, transportOf(c, access), `${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`);
  if (!manifest.ok) return { problem: `cannot read ${repository} ${reference} from its registry: ${manifest.message}` };
  const revision = (manifest.value.annotations as Record<string, string> | undefined)?.[REVISION_ANNOTATION];
  const commit = commitOfRevision(revision);
  return commit ? { commit } : { problem: `${repository} ${reference} has no ${REVISION_ANNOTATION} naming a commit (found ${JSON.stringify(revision ?? null)}): it was not pushed by \`npm run publish\`` };
}

/** Wave N's tag of one site: where it points, and the artifact of `commit` it would move to. */
export interface OciTarget {
  readonly cluster: string;
  /** `<registry>/<cluster>:wave-N`. */
  readonly name: string;
  /** The commit the wave tag's artifact names; none when the tag does not exist yet. */
  readonly current?: string;
  readonly currentDigest?: string;
  /** The digest of `<registry>/<cluster>:<commit>`, or why there is none. */
  readonly published: { readonly digest: string } | { readonly problem: string };
}

export async function readOciTarget(c: OciCluster, wave: number, commit: string, access: RegistryAccess): Promise<OciTarget> {
  const repository = artifactRepository(c.oci.registry, c.name);
  const t = transportOf(c, access);
  const name = `${repository}:${waveTagName(wave)}`;
  const wanted = await orasResolve(access.oras, t, `${repository}:${commitTagName(commit)}`);
  const published = wanted.ok
    ? { digest: wanted.value }
    : { problem: `${repository}:${commitTagName(commit)} is not in the registry (${wanted.message}). Fix: publish that commit for it (\`git checkout ${commitTagName(commit)} && npm run publish -- --registry ${c.oci.registry} ${c.name}\`), then promote again.` };
  const now = await orasResolve(access.oras, t, name);
  if (!now.ok) return { cluster: c.name, name, published };
  const current = await commitOfArtifact(c, access, now.value);
  return { cluster: c.name, name, currentDigest: now.value, published, ...('commit' in current ? { current: current.commit } : {}) };
}

/** `oras tag <cluster>@<digest> wave-N`: one PUT; the site pulls it at its OCIRepository's next interval. */
export async function moveWaveTag(c: OciCluster, wave: number, digest: string, access: RegistryAccess): Promise<{ ok: true } | { ok: false; message: string }> {
  const out = await orasTag(access.oras, transportOf(c, access), artifactRepository(c.oci.registry, c.name), digest, [waveTagName(wave)]);
  return out.ok ? { ok: true } : { ok: false, message: out.message };
}
