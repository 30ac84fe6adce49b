// npm run publish: the pure parts (tarball, annotations, tags, arguments), then the command against
// a real registry on 127.0.0.1 with the real oras: what lands there, that it is reproducible, that
// it is the build's bytes, and that every failure leaves the tags where they were.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInventory, type Cluster } from '../scripts/lib/fleet/inventory.ts';
import { artifactAnnotations, FLUX_CONFIG_MEDIA_TYPE, FLUX_CONTENT_MEDIA_TYPE, fluxRevision, parseRegistry, revisionTag, waveTag } from '../scripts/lib/publish/artifact.ts';
import { repositoryUrl, selectClusters } from '../scripts/lib/publish/run.ts';
import { readTarGz, tarGzOneFile } from '../scripts/lib/publish/tarball.ts';
import { freePort } from '../scripts/lib/tools/control-plane/ports.ts';
import { makePki } from '../scripts/lib/tools/control-plane/pki.ts';
import { headRevision } from '../scripts/lib/tools/git.ts';
import { findOras, orasFetchManifest, orasPush, orasResolve, orasTag } from '../scripts/lib/tools/oras.ts';
import { startRegistry, type RunningRegistry } from '../scripts/lib/tools/registry.ts';
import { installPinnedTool, stampFile } from '../scripts/lib/setup/setup-tools.ts';
import { CONTROL_PLANE_TOOLS, KUSTOMIZE, ORAS, PINNED_TOOLS, REGISTRY } from '../scripts/lib/setup/tool-versions.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { describeWithRegistry, registryGet, startRefusingProxy, tagDigest, tagsOf } from './helpers/registry.ts';
import { runScript } from './helpers/run.ts';
import { useTempDirs } from './helpers/tmp.ts';

const cluster = (name: string, wave?: number): Cluster => ({ name, overlay: 'single-node', server: `https://${name}.example.net`, region: 'r', dir: `/x/${name}`, path: `clusters/${name}`, namespace: 'emqx-single-node', ...(wave === undefined ? {} : { wave }) }) as Cluster;
const USAGE = 'usage: npm run publish';

describe('publish: the artifact as data', () => {
  const tempDir = useTempDirs();

  it('pins oras in the default set-up and the registry with --control-plane, shaped like every pinned tool', async () => {
    expect(PINNED_TOOLS).toContain(ORAS);
    expect(PINNED_TOOLS).not.toContain(REGISTRY);
    expect(CONTROL_PLANE_TOOLS).toEqual([REGISTRY]);
    for (const tool of [ORAS, REGISTRY]) expect(Object.keys(tool)).toEqual(Object.keys(KUSTOMIZE));
    expect([ORAS.module, ORAS.version, REGISTRY.module, REGISTRY.version]).toEqual(['oras.land/oras/cmd/oras', 'v1.3.6', 'github.com/distribution/distribution/v3/cmd/registry', 'v3.1.2']);
    // A re-run with the stamp in place is a no-op that never reaches for Go or the network.
    const bin = await tempDir();
    await writeFile(path.join(bin, 'oras'), '');
    await writeFile(stampFile(bin, ORAS), `${ORAS.module}@${ORAS.version}\n`);
    const path0 = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(await installPinnedTool(bin, ORAS)).toBe('present');
    } finally {
      process.env.PATH = path0;
    }
  });

  it('packs one file into a tar.gz that is the same bytes every time, with nothing that varies', async () => {
    const content = Buffer.from('---\napiVersion: v1\nkind: ConfigMap\n');
    const a = tarGzOneFile('eu-west.yaml', content);
    expect(tarGzOneFile('eu-west.yaml', Buffer.from(content)).equals(a)).toBe(true);
    // gzip header: no mtime (bytes 4-7), OS "Unix" (byte 9) whatever zlib was built for.
    expect([...a.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
    expect(a[9]).toBe(3);
    expect(readTarGz(a)).toEqual([{ name: 'eu-west.yaml', mode: 0o644, mtime: 0, content }]);
    // GNU tar, as source-controller's Go archive/tar, reads it as a plain root-owned file.
    const file = path.join(await tempDir(), 'a.tar.gz');
    await writeFile(file, a);
    const listing = (await $({ quiet: true })`tar -tvzf ${file}`).stdout;
    expect(listing).toMatch(/^-rw-r--r-- 0\/0 +35 1970-01-01 00:00 eu-west\.yaml$/m);
    expect(tarGzOneFile('eu-west.yaml', Buffer.from('other')).equals(a)).toBe(false);
  });

  it("writes Flux's revision format and pins the created time to the commit", () => {
    const rev = { commit: 'a'.repeat(40), branch: 'main', committed: '2026-12-03T07:44:07Z' };
    expect(fluxRevision(rev)).toBe(`main@sha1:${'a'.repeat(40)}`);
    expect(fluxRevision({ commit: 'b'.repeat(40), committed: rev.committed })).toBe(`sha1:${'b'.repeat(40)}`);
    expect(artifactAnnotations('https://git.example/emqx.git', rev)).toEqual({
      'org.opencontainers.image.source': 'https://git.example/emqx.git',
      'org.opencontainers.image.revision': `main@sha1:${'a'.repeat(40)}`,
      'org.opencontainers.image.created': '2026-12-03T07:44:07Z',
    });
    expect(revisionTag(rev)).toBe('aaaaaaaaaaaa');
  });

  it("tags a cluster with its inventory wave, else the highest wave, else wave-1", () => {
    expect(waveTag(cluster('a'), [cluster('a'), cluster('b')])).toBe('wave-1');
    expect(waveTag(cluster('a', 3), [cluster('a', 3), cluster('b')])).toBe('wave-3');
    expect(waveTag(cluster('b'), [cluster('a', 2), cluster('b'), cluster('c', 4)])).toBe('wave-4');
  });

  it('takes HOST[:PORT][/PATH] and refuses a scheme or a path that is no repository name', () => {
    expect(parseRegistry('registry.example.net:5000/emqx/edge/', USAGE)).toEqual({ host: 'registry.example.net:5000', path: 'emqx/edge', base: 'registry.example.net:5000/emqx/edge' });
    expect(() => parseRegistry('oci://registry.example.net/emqx', USAGE)).toThrow(/--registry oci:\/\/registry.example.net\/emqx: give the registry without a scheme \(registry.example.net\/emqx\); plain HTTP is --plain-http/);
    expect(() => parseRegistry('registry.example.net/EMQX', USAGE)).toThrow(/path segment "EMQX" is not a valid OCI repository name/);
  });

  it('names an unknown cluster and the known ones, exit 2', () => {
    const fleet = [cluster('eu-west'), cluster('factory-lyon')];
    expect(selectClusters(fleet, []).map((c) => c.name)).toEqual(['eu-west', 'factory-lyon']);
    expect(selectClusters(fleet, ['factory-lyon']).map((c) => c.name)).toEqual(['factory-lyon']);
    expect(() => selectClusters(fleet, ['eu-west', 'atlantis'])).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringContaining('"atlantis" is not in clusters/inventory.yaml. Known clusters: eu-west, factory-lyon.') }));
  });
});

/** `<cluster>: <repository>`, `tags:`, `digest:`, `content:` blocks of the command's output. */
function printed(stdout: string): Map<string, { repository: string; tags: string[]; digest: string; content: string }> {
  const found = new Map<string, { repository: string; tags: string[]; digest: string; content: string }>();
  for (const m of stdout.matchAll(/^([\w-]+): (\S+)\n {2}tags: (.+)\n {2}digest: (sha256:[0-9a-f]{64}) .*\n {2}content: (sha256:[0-9a-f]{64}) /gm)) {
    found.set(m[1]!, { repository: m[2]!, tags: m[3]!.split(', '), digest: m[4]!, content: m[5]! });
  }
  return found;
}

describeWithRegistry('publish to a real registry', () => {
  const CLUSTERS = ['eu-west', 'factory-lyon'];
  let storage: string;
  let registry: RunningRegistry;
  let expectedTags: Map<string, string[]>;
  let rev: Awaited<ReturnType<typeof headRevision>>;
  const publish = (registryArg: string, clusters: readonly string[] = CLUSTERS) => runScript('publish.ts', ['--registry', registryArg, '--plain-http', ...clusters]);

  beforeAll(async () => {
    storage = await mkdtemp(path.join(os.tmpdir(), 'emqx-publish-test-'));
    registry = await startRegistry({ storage });
    rev = await headRevision(REPO_ROOT);
    const fleet = readInventory().clusters;
    expectedTags = new Map(CLUSTERS.map((name) => [name, [revisionTag(rev), waveTag(fleet.find((c) => c.name === name)!, fleet)]]));
  });
  afterAll(async () => {
    await registry?.stop();
    if (storage) await rm(storage, { recursive: true, force: true });
  });

  it("pushes each cluster as a Flux artifact: Flux's media types, source and revision, the commit and wave tags", async () => {
    const out = await publish(`${registry.host}/emqx`);
    expect(out.exitCode, out.stderr).toBe(0);
    const blocks = printed(out.stdout);
    expect([...blocks.keys()]).toEqual(CLUSTERS);
    for (const name of CLUSTERS) {
      const repo = `emqx/${name}`;
      const block = blocks.get(name)!;
      expect(block.repository).toBe(`${registry.host}/${repo}`);
      expect(block.tags).toEqual(expectedTags.get(name));
      expect(await tagsOf(registry.host, repo)).toEqual([...expectedTags.get(name)!].sort());
      for (const tag of block.tags) expect(await tagDigest(registry.host, repo, tag), tag).toBe(block.digest);
      const manifest = JSON.parse((await registryGet(registry.host, `/v2/${repo}/manifests/${block.digest}`)).body.toString('utf8'));
      expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(manifest.artifactType).toBe(FLUX_CONFIG_MEDIA_TYPE);
      expect(manifest.config.mediaType).toBe(FLUX_CONFIG_MEDIA_TYPE);
      expect(manifest.layers).toHaveLength(1);
      expect(manifest.layers[0].mediaType).toBe(FLUX_CONTENT_MEDIA_TYPE);
      expect(manifest.layers[0].digest).toBe(block.content);
      expect(manifest.annotations).toEqual({
        'org.opencontainers.image.source': repositoryUrl(REPO_ROOT),
        'org.opencontainers.image.revision': `${rev.branch ? `${rev.branch}@` : ''}sha1:${rev.commit}`,
        'org.opencontainers.image.created': rev.committed,
      });
    }
    expect(out.stdout).toContain(`published 2 clusters at ${rev.branch ? `${rev.branch}@` : ''}sha1:${rev.commit}`);
  });

  it('prints the same manifest and content digests for the same render', async () => {
    const first = printed((await publish(`${registry.host}/again`)).stdout);
    const second = await publish(`${registry.host}/again`);
    expect(second.exitCode, second.stderr).toBe(0);
    const again = printed(second.stdout);
    for (const name of CLUSTERS) {
      expect(again.get(name)!.digest).toBe(first.get(name)!.digest);
      expect(again.get(name)!.content).toBe(first.get(name)!.content);
    }
    for (const name of CLUSTERS) for (const tag of expectedTags.get(name)!) expect(await tagDigest(registry.host, `again/${name}`, tag)).toBe(first.get(name)!.digest);
    // Another registry path, same bytes: the digests do not depend on where they go either.
    expect(printed((await publish(`${registry.host}/emqx`)).stdout).get('eu-west')!.digest).toBe(first.get('eu-west')!.digest);
  });

  it('holds in its one layer exactly the bytes `npm run build` writes for the cluster', async () => {
    const blocks = printed((await publish(`${registry.host}/emqx`)).stdout);
    const out = await mkdtemp(path.join(os.tmpdir(), 'emqx-publish-build-'));
    try {
      const build = await runScript('build.ts', ['--out', out, ...CLUSTERS.map((c) => `clusters/${c}`)]);
      expect(build.exitCode, build.stderr).toBe(0);
      for (const name of CLUSTERS) {
        const blob = await registryGet(registry.host, `/v2/emqx/${name}/blobs/${blocks.get(name)!.content}`, '*/*');
        expect(blob.status).toBe(200);
        const entries = readTarGz(blob.body);
        expect(entries.map((e) => e.name)).toEqual([`${name}.yaml`]);
        expect(entries[0]!.content.equals(await readFile(path.join(out, `${name}.yaml`)))).toBe(true);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  describe('over TLS with --ca-file', () => {
    let tlsDir: string;
    let tls: RunningRegistry;
    let ca: string;
    beforeAll(async () => {
      tlsDir = await mkdtemp(path.join(os.tmpdir(), 'emqx-publish-tls-'));
      const pki = await makePki(tlsDir);
      ca = pki.caCert;
      tls = await startRegistry({ tls: { certificate: pki.serverCert, key: pki.serverKey, ca } });
    });
    afterAll(async () => {
      await tls?.stop();
      if (tlsDir) await rm(tlsDir, { recursive: true, force: true });
    });

    it('pushes and tags through HTTPS trusting the given CA (a relative path works too)', async () => {
      const out = await runScript('publish.ts', ['--registry', `${tls.host}/emqx`, '--ca-file', path.relative(REPO_ROOT, ca), 'factory-lyon']);
      expect(out.exitCode, out.stderr).toBe(0);
      const block = printed(out.stdout).get('factory-lyon')!;
      const oras = await findOras();
      const reference = `${tls.host}/emqx/factory-lyon:${expectedTags.get('factory-lyon')![1]}`;
      expect(await orasResolve(oras, { caFile: ca }, reference)).toEqual({ ok: true, value: block.digest });
      const manifest = await orasFetchManifest(oras, { caFile: ca }, reference);
      expect(manifest.ok && (manifest.value.layers as Array<{ digest: string }>)[0]!.digest).toBe(block.content);
    });

    it('without the CA, or with --plain-http, fails at GET /v2/ with exit 2 and says which flag to use', async () => {
      const untrusted = await runScript('publish.ts', ['--registry', `${tls.host}/emqx`, 'factory-lyon']);
      expect(untrusted.exitCode).toBe(2);
      expect(untrusted.stderr).toMatch(new RegExp(`^error: cannot reach the registry at https://${tls.host.replace(/\./g, '\\.')}/v2/: .*certificate.*Nothing was pushed and no tag was moved\\.\\n.*one with a private CA --ca-file FILE`, 'm'));
      const plain = await runScript('publish.ts', ['--registry', `${tls.host}/emqx`, '--plain-http', 'factory-lyon']);
      expect(plain.exitCode).toBe(2);
      expect(plain.stderr).toContain(`error: http://${tls.host}/v2/ answered 400, not an OCI registry's 200 or 401.`);
    });
  });

  describe('failures leave every tag where it was', () => {
    /** Each cluster's repository under guard/, its tags on a decoy artifact that no publish makes. */
    const decoy = new Map<string, string>();
    beforeAll(async () => {
      const oras = await findOras();
      const dir = await mkdtemp(path.join(os.tmpdir(), 'emqx-publish-decoy-'));
      try {
        await writeFile(path.join(dir, 'decoy.txt'), 'not a render\n');
        for (const name of CLUSTERS) {
          const repo = `${registry.host}/guard/${name}`;
          const pushed = await orasPush(oras, { plainHttp: true }, { repository: repo, cwd: dir, files: [{ path: 'decoy.txt', mediaType: 'text/plain' }], annotations: { 'org.opencontainers.image.created': '2000-01-01T00:00:00Z' } });
          if (!pushed.ok) throw new Error(pushed.message);
          const tagged = await orasTag(oras, { plainHttp: true }, repo, pushed.value.digest, expectedTags.get(name)!);
          if (!tagged.ok) throw new Error(tagged.message);
          decoy.set(name, pushed.value.digest);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    async function expectTagsUnmoved(): Promise<void> {
      for (const name of CLUSTERS) {
        expect(await tagsOf(registry.host, `guard/${name}`)).toEqual([...expectedTags.get(name)!].sort());
        for (const tag of expectedTags.get(name)!) expect(await tagDigest(registry.host, `guard/${name}`, tag), `${name}:${tag}`).toBe(decoy.get(name));
      }
    }

    it('an unreachable registry: exit 2 before anything is pushed', async () => {
      const port = await freePort();
      const out = await publish(`127.0.0.1:${port}/guard`);
      expect(out.exitCode).toBe(2);
      expect(out.stderr).toMatch(new RegExp(`^error: cannot reach the registry at http://127\\.0\\.0\\.1:${port}/v2/: .*ECONNREFUSED.*Nothing was pushed and no tag was moved\\.\\nFix: check the address`, 'm'));
      expect(out.stderr).not.toMatch(/\n\s+at /);
      await expectTagsUnmoved();
    });

    it('a cluster not in the inventory: exit 2 naming it and the known clusters, nothing pushed', async () => {
      const out = await publish(`${registry.host}/guard`, ['eu-west', 'atlantis', 'factory-lyon']);
      expect(out.exitCode).toBe(2);
      expect(out.stderr).toContain('error: "atlantis" is not in clusters/inventory.yaml. Known clusters: ');
      expect(out.stderr).toContain('eu-west, us-east');
      await expectTagsUnmoved();
    });

    it('a registry that refuses pushes (read-only): exit 2, no tag moved', async () => {
      const readOnly = await startRegistry({ storage, readOnly: true });
      try {
        const out = await publish(`${readOnly.host}/guard`);
        expect(out.exitCode).toBe(2);
        expect(out.stderr).toContain(`error: ${readOnly.host} refused the push of eu-west's artifact to ${readOnly.host}/guard/eu-west: `);
        expect(out.stderr).toContain('No tag was moved.');
        expect(out.stderr).toContain(`Fix: make sure you may push to ${readOnly.host}/guard/eu-west`);
        expect(out.stderr).not.toMatch(/\n\s+at /);
      } finally {
        await readOnly.stop();
      }
      await expectTagsUnmoved();
    });

    it("a push refused half-way (the second cluster's repository): the first cluster, already uploaded, keeps its tags too", async () => {
      // factory-lyon comes after eu-west in the inventory: eu-west's artifact is pushed before the refusal.
      const proxy = await startRefusingProxy(registry.host, (method, pathname) => method !== 'GET' && method !== 'HEAD' && pathname.startsWith('/v2/guard/factory-lyon/'));
      try {
        const out = await publish(`${proxy.host}/guard`);
        expect(out.exitCode).toBe(2);
        expect(out.stderr).toContain(`error: ${proxy.host} refused the push of factory-lyon's artifact to ${proxy.host}/guard/factory-lyon: `);
        expect(out.stderr).toContain('denied: requested access to the resource is denied');
        expect(out.stderr).toContain('No tag was moved. The artifacts of eu-west were uploaded untagged; no site follows them.');
      } finally {
        await proxy.stop();
      }
      await expectTagsUnmoved();
      // eu-west's render really went in, by digest alone: the registry holds a second manifest beside the decoy.
      const revisions = await readdir(path.join(storage, 'docker/registry/v2/repositories/guard/eu-west/_manifests/revisions/sha256'));
      expect(revisions).toHaveLength(2);
      expect(revisions).toContain(decoy.get('eu-west')!.replace('sha256:', ''));
    });
  });
});
