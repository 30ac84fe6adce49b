// `npm run publish`: each fleet cluster's render, as `npm run build` writes it, pushed as a Flux OCI
// artifact to <registry>/<cluster> and tagged with the commit (and wave 1's with its wave), for edge
// sites that pull from a registry instead of Git (docs/fleet.md, "Edge sites from an OCI registry").
//
// The order is what keeps every tag where it was on a failure:
//   1. everything that can fail without the registry (arguments, inventory, git, render) first;
//   2. GET /v2/ (bounded): an unreachable registry fails before anything is uploaded;
//   3. every cluster's artifact is pushed by digest, without a tag: a refused or failed push leaves
//      at most some untagged manifests behind, which no site follows and the registry's garbage
//      collection removes;
//   4. only when all of them are in, the tags move, cluster by cluster (oras tag: one PUT per tag):
//      the commit's tag always, the wave's for wave 1 and for a new site (heldWaveTags says why).
// So a failure in 1-3 moves no tag. Step 4 cannot be atomic across repositories; it fails only if
// the registry goes away between 3 and 4, and the message then names the clusters whose tags moved
// and those whose did not: a re-run pushes the same digests again and moves the rest.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_FINDINGS, EXIT_USAGE, UserError } from '../cli/errors.ts';
import { readInventory, type Cluster } from '../fleet/inventory.ts';
import { renderOverlays } from '../model/render.ts';
import { countObjects } from '../model/render-stream.ts';
import { headRevision, uncommittedPaths } from '../tools/git.ts';
import { findKustomize, describeKustomize } from '../tools/kustomize.ts';
import { findOras, orasPush, orasResolve, orasTag, type RegistryTransport } from '../tools/oras.ts';
import type { FoundBinary } from '../tools/pinned-binary.ts';
import { REPO_ROOT } from '../util/paths.ts';
import { artifactAnnotations, CONFIG_JSON, FLUX_CONFIG_MEDIA_TYPE, FLUX_CONTENT_MEDIA_TYPE, fluxRevision, parseRegistry, revisionTag, waveTag } from './artifact.ts';
import { artifactRepository, wavesByName, waveTagName } from '../model/waves.ts';
import { tarGzOneFile } from './tarball.ts';

export interface PublishOptions {
  /** `HOST[:PORT][/PATH]`. */
  readonly registry: string;
  readonly transport: RegistryTransport;
  /** Cluster names; none: every cluster of the inventory. */
  readonly clusters: readonly string[];
  readonly usage: string;
  /** Warnings (a dirty tree, an unpinned kustomize) as they come. */
  readonly warn: (line: string) => void;
  readonly root?: string;
  /** How long GET /v2/ may take (default 10 s). */
  readonly reachTimeoutMs?: number;
}

export interface PublishedCluster {
  readonly cluster: string;
  /** `<registry>/<cluster>`. */
  readonly repository: string;
  /** The manifest's digest: what the tags point at and Flux reports (`wave-1@sha256:...`). */
  readonly digest: string;
  /** The layer's digest: the tar.gz of the render alone. */
  readonly contentDigest: string;
  readonly tags: readonly string[];
  /** The wave tag left where it was (a later wave's, which `fleet promote` moves), and what it points at. */
  readonly held?: HeldTag;
  /** The file in the tar.gz, and how many objects it holds. */
  readonly file: string;
  readonly objects: number;
}

export interface HeldTag {
  readonly tag: string;
  readonly digest: string;
  readonly wave: number;
}

export interface PublishResult {
  readonly revision: string;
  readonly published: readonly PublishedCluster[];
}

/** The inputs of a render: a change under them that is not committed is not what the revision names. */
const RENDER_INPUTS = ['base', 'components', 'overlays', 'clusters'];

export async function publish(options: PublishOptions): Promise<PublishResult> {
  const root = options.root ?? REPO_ROOT;
  const registry = parseRegistry(options.registry, options.usage);
  const inventory = readInventory({ root });
  const clusters = selectClusters(inventory.clusters, options.clusters);
  const rev = await headRevision(root);
  const source = repositoryUrl(root);
  const dirty = await uncommittedPaths(root, RENDER_INPUTS);
  if (dirty.length > 0) {
    options.warn(`warning: ${dirty.length} uncommitted change(s) under ${RENDER_INPUTS.join(', ')} (${dirty.slice(0, 3).join(', ')}${dirty.length > 3 ? ', ...' : ''}): the artifacts hold the working tree's render but name commit ${rev.commit.slice(0, 12)}. Commit first for an artifact that matches its revision.`);
  }
  const oras = await findOras();
  const kustomize = await findKustomize();
  const warning = describeKustomize(kustomize);
  if (warning) options.warn(warning);

  await checkReachable(registry.host, options.transport, options.reachTimeoutMs ?? 10_000);

  // The same call `npm run build` makes, on the same directories: the bytes are the build's.
  const { rendered, failures } = await renderOverlays(kustomize, clusters.map((c) => ({ name: c.name, dir: c.dir })), { batch: true });
  if (failures.length > 0) {
    throw new UserError(`${failures.map((f) => f.message).join('\n')}\n${failures.length} of ${clusters.length} clusters failed to render; nothing was pushed.`, EXIT_FINDINGS);
  }

  const work = await mkdtemp(path.join(os.tmpdir(), 'emqx-publish-'));
  try {
    const annotations = artifactAnnotations(source, rev);
    const pushed: Array<Omit<PublishedCluster, 'tags'>> = [];
    for (const { overlay, yaml } of rendered) {
      const dir = path.join(work, overlay.name);
      await mkdir(dir);
      const file = `${overlay.name}.yaml`;
      const archive = tarGzOneFile(file, Buffer.from(yaml, 'utf8'));
      await writeFile(path.join(dir, `${overlay.name}.tar.gz`), archive);
      await writeFile(path.join(dir, 'config.json'), CONFIG_JSON);
      const repository = artifactRepository(registry.base, overlay.name);
      const result = await orasPush(oras, options.transport, {
        repository,
        cwd: dir,
        artifactType: FLUX_CONFIG_MEDIA_TYPE,
        config: { path: 'config.json', mediaType: FLUX_CONFIG_MEDIA_TYPE },
        files: [{ path: `${overlay.name}.tar.gz`, mediaType: FLUX_CONTENT_MEDIA_TYPE }],
        annotations,
      });
      if (!result.ok) {
        const before = pushed.length > 0 ? ` The artifacts of ${pushed.map((p) => p.cluster).join(', ')} were uploaded untagged; no site follows them.` : '';
        throw new UserError(
          `${registry.host} refused the push of ${overlay.name}'s artifact to ${repository}: ${result.message}\nNo tag was moved.${before}\n` +
            `Fix: make sure you may push to ${repository} (\`oras login ${registry.host}\`, or the credentials in ~/.docker/config.json; a read-only registry or a pull-through mirror refuses pushes), then run the command again.`,
          EXIT_USAGE,
        );
      }
      pushed.push({ cluster: overlay.name, repository, digest: result.value.digest, contentDigest: `sha256:${createHash('sha256').update(archive).digest('hex')}`, file, objects: countObjects(yaml) });
    }

    const held = await heldWaveTags(oras, options.transport, pushed, wavesByName(inventory.clusters));
    const published: PublishedCluster[] = [];
    for (const p of pushed) {
      const cluster = clusters.find((c) => c.name === p.cluster)!;
      const hold = held.get(p.cluster);
      const tags = hold ? [revisionTag(rev)] : [revisionTag(rev), waveTag(cluster, inventory.clusters)];
      const result = await orasTag(oras, options.transport, p.repository, p.digest, tags);
      if (!result.ok) {
        const moved = published.map((q) => q.cluster);
        const left = pushed.slice(published.length).map((q) => q.cluster);
        throw new UserError(
          `every artifact was pushed, but tagging ${p.repository}@${p.digest} failed: ${result.message}\n` +
            `Tags moved for: ${moved.join(', ') || '(none)'}; not moved for: ${left.join(', ')}.\nFix: run the same command again; it pushes the same digests and moves the remaining tags.`,
          EXIT_USAGE,
        );
      }
      published.push({ ...p, tags, ...(hold ? { held: hold } : {}) });
    }
    return { revision: fluxRevision(rev), published };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The wave tags this publish leaves where they are. A later wave's tag is what its sites run, and
 * it moves with `npm run fleet -- promote --wave N` once wave N-1 is Ready at the commit, as a later
 * wave's branch does on the Git path: a publish of main moves wave 1's tags only. A repository
 * without its wave tag yet (a new site) gets it, so that the site has something to pull; one whose
 * tag already points at this digest is tagged again, which moves nothing.
 */
async function heldWaveTags(oras: FoundBinary, transport: RegistryTransport, pushed: ReadonlyArray<{ cluster: string; repository: string; digest: string }>, waves: ReadonlyMap<string, number>): Promise<Map<string, HeldTag>> {
  const held = new Map<string, HeldTag>();
  for (const p of pushed) {
    const wave = waves.get(p.cluster) ?? 1;
    if (wave === 1) continue;
    const tag = waveTagName(wave);
    const current = await orasResolve(oras, transport, `${p.repository}:${tag}`);
    if (current.ok) {
      if (current.value !== p.digest) held.set(p.cluster, { tag, digest: current.value, wave });
    } else if (!isNotFound(current.message)) {
      throw new UserError(`every artifact was pushed, but reading ${p.repository}:${tag} failed: ${current.message}\nNo tag was moved.\nFix: check that the registry is reachable and that you may read ${p.repository}, then run the command again.`, EXIT_USAGE);
    }
  }
  return held;
}

/** oras' words for a tag the registry does not have (distribution answers 404 MANIFEST_UNKNOWN). */
export function isNotFound(message: string): boolean {
  return /not found|manifest unknown|MANIFEST_UNKNOWN/i.test(message);
}

/** The named clusters in the inventory's order, or all of them; an unknown name is exit 2 naming the known ones. */
export function selectClusters(fleet: readonly Cluster[], names: readonly string[]): Cluster[] {
  if (names.length === 0) {
    if (fleet.length === 0) throw new UserError('clusters/inventory.yaml lists no cluster: there is nothing to publish. Fix: add the edge sites to the inventory (docs/fleet.md, "Adding a cluster").', EXIT_USAGE);
    return [...fleet];
  }
  const unknown = names.filter((n) => !fleet.some((c) => c.name === n));
  if (unknown.length > 0) {
    throw new UserError(
      `${unknown.map((n) => `"${n}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in clusters/inventory.yaml. Known clusters: ${fleet.map((c) => c.name).join(', ') || '(none)'}.\n` +
        'Fix: give the names of inventory entries, or add the cluster first (`npm run fleet -- add`, docs/fleet.md).',
      EXIT_USAGE,
    );
  }
  return fleet.filter((c) => names.includes(c.name));
}

/** `url=` of gitops/repository/repository.env: the repository the Git path syncs from, and the artifacts' source. */
export function repositoryUrl(root: string): string {
  const file = path.join(root, 'gitops', 'repository', 'repository.env');
  const url = /^url=(.+)$/m.exec(readFileSync(file, 'utf8'))?.[1]?.trim();
  if (!url) throw new UserError(`gitops/repository/repository.env has no \`url=\` line. Fix: set it to the repository's URL (docs/gitops.md).`, EXIT_USAGE);
  return url;
}

/**
 * GET https://HOST/v2/ (http:// with --plain-http): 200, or 401 from a registry that wants a login,
 * means an OCI registry answers there. Anything else, or nothing within the timeout, is exit 2
 * before anything is pushed.
 */
export async function checkReachable(host: string, transport: RegistryTransport, timeoutMs: number): Promise<void> {
  const url = `${transport.plainHttp ? 'http' : 'https'}://${host}/v2/`;
  const answer = await new Promise<{ status: number } | { error: string }>((resolve) => {
    const options = { timeout: timeoutMs, ...(transport.caFile && !transport.plainHttp ? { ca: readFileSync(transport.caFile) } : {}) };
    const req = (transport.plainHttp ? http : https).get(url, options, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs / 1000} s`)));
    req.on('error', (e) => resolve({ error: e.message }));
  });
  const fix = `Fix: check the address and that the registry runs and is reachable from here${transport.plainHttp ? '' : '; a registry without TLS needs --plain-http, one with a private CA --ca-file FILE'}.`;
  if ('error' in answer) throw new UserError(`cannot reach the registry at ${url}: ${answer.error}. Nothing was pushed and no tag was moved.\n${fix}`, EXIT_USAGE);
  if (answer.status !== 200 && answer.status !== 401) {
    throw new UserError(`${url} answered ${answer.status}, not an OCI registry's 200 or 401. Nothing was pushed and no tag was moved.\n${fix}`, EXIT_USAGE);
  }
}

