// What `npm run publish` puts in a registry for one cluster, as data: Flux's media types, the
// annotations, the tags, where it goes. Pure: the tests call these without a registry.
import { EXIT_USAGE, UserError } from '../cli/errors.ts';
import type { HeadRevision } from '../tools/git.ts';
import type { Cluster } from '../fleet/inventory.ts';
import { commitTagName, REVISION_ANNOTATION, waveTagName } from '../model/waves.ts';

/** Flux's own (fluxcd/pkg/oci globals.go, what `flux push artifact` writes): source-controller pulls these. */
export const FLUX_CONFIG_MEDIA_TYPE = 'application/vnd.cncf.flux.config.v1+json';
export const FLUX_CONTENT_MEDIA_TYPE = 'application/vnd.cncf.flux.content.v1.tar+gzip';

export const SOURCE_ANNOTATION = 'org.opencontainers.image.source';
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';

/** The config blob: Flux reads nothing from it, so it is the same two bytes for every artifact. */
export const CONFIG_JSON = '{}';

/**
 * The revision as Flux writes it (RFC-0005, and `flux push artifact --revision
 * "$(git branch --show-current)@sha1:$(git rev-parse HEAD)"`): `<branch>@sha1:<commit>`, or
 * `sha1:<commit>` on a detached HEAD, as a GitRepository at a commit reports it.
 */
export function fluxRevision(rev: HeadRevision): string {
  return rev.branch ? `${rev.branch}@sha1:${rev.commit}` : `sha1:${rev.commit}`;
}

/**
 * The manifest's annotations. `created` is the commit's time, not the time of the push: oras
 * stamps the current time unless it is given, and that alone would make every push of the same
 * commit a new manifest digest. So the manifest digest is a function of the render and the commit.
 */
export function artifactAnnotations(source: string, rev: HeadRevision): Record<string, string> {
  return { [SOURCE_ANNOTATION]: source, [REVISION_ANNOTATION]: fluxRevision(rev), [CREATED_ANNOTATION]: rev.committed };
}

/** The commit's tag (commitTagName). */
export function revisionTag(rev: HeadRevision): string {
  return commitTagName(rev.commit);
}

/**
 * `wave-<N>`: the tag a site's OCIRepository follows (`ref.tag`). It follows the inventory's
 * `wave` field (clusters/inventory.yaml, read by scripts/lib/fleet/inventory.ts); a cluster without
 * one goes last, with the highest wave any entry has, or 1 when no entry has a wave.
 */
export function waveTag(cluster: Cluster, fleet: readonly Cluster[]): string {
  const waveOf = (c: Cluster) => (c as { wave?: number }).wave;
  const own = waveOf(cluster);
  if (typeof own === 'number') return waveTagName(own);
  const waves = fleet.map(waveOf).filter((w): w is number => typeof w === 'number');
  return waveTagName(waves.length > 0 ? Math.max(...waves) : 1);
}

/** `--registry HOST[:PORT][/PATH]` as oras takes it, checked: no scheme, lower-case path segments. */
export function parseRegistry(value: string, usage: string): { host: string; path: string; base: string } {
  const problem = (why: string) => new UserError(`--registry ${value}: ${why}\n\n${usage}`, EXIT_USAGE);
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i;
  if (scheme.test(value)) throw problem(`give the registry without a scheme (${value.replace(scheme, '')}); plain HTTP is --plain-http.`);
  const trimmed = value.replace(/\/+$/, '');
  const [host = '', ...segments] = trimmed.split('/');
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host)) throw problem('expected HOST[:PORT] first, e.g. registry.example.net:5000/emqx.');
  for (const s of segments) {
    if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/.test(s)) throw problem(`path segment "${s}" is not a valid OCI repository name (lower-case letters, digits, and . _ - between them).`);
  }
  return { host, path: segments.join('/'), base: trimmed };
}

