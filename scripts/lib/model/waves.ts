// Waves: the order a change reaches a fleet's clusters. Wave 1 first (a canary), each later wave
// once the one before it is healthy. A cluster that names no wave is in the last one, so a new
// cluster is never a canary by accident. Shared by the inventory (fleet/) and the diff, which reads
// the inventory of either side tolerantly.

/** The last wave: the highest an entry names, 1 when none does. */
export function lastWave(entries: readonly { readonly wave?: number }[]): number {
  return Math.max(1, ...entries.map((e) => e.wave ?? 1));
}

/** Each entry's wave by its name, entries without one in the last wave. */
export function wavesByName(entries: readonly { readonly name: string; readonly wave?: number }[]): Map<string, number> {
  const last = lastWave(entries);
  return new Map(entries.map((e) => [e.name, e.wave ?? last]));
}

/**
 * `wave-<N>`: the tag `npm run publish` gives a cluster's artifact for its wave, and the tag an
 * OCI site's OCIRepository follows (`ref.tag`).
 */
export function waveTagName(wave: number): string {
  return `wave-${wave}`;
}

/**
 * The manifest annotation naming what an artifact was rendered from (`<branch>@sha1:<commit>`, as
 * Flux writes it): `npm run publish` writes it, `npm run fleet -- promote` reads it back to learn
 * which commit an OCI site runs.
 */
export const REVISION_ANNOTATION = 'org.opencontainers.image.revision';

/** The tag of a commit's artifact: its first 12 hex digits (a fixed length, unlike `git rev-parse --short`). */
export function commitTagName(commit: string): string {
  return commit.slice(0, 12);
}

/** Where a cluster's artifacts are: `<registry>/<cluster>`. */
export function artifactRepository(registryBase: string, cluster: string): string {
  return `${registryBase.replace(/\/+$/, '')}/${cluster}`;
}

/** The commit of a Flux revision: `main@sha1:abc...`, `sha1:abc...` or a bare commit. */
export function commitOfRevision(revision: string | undefined): string | undefined {
  const m = revision ? /(?:^|[@:])([0-9a-f]{40})$/.exec(revision) : null;
  return m?.[1];
}
