// The fleet: clusters/inventory.yaml, the cluster directories, `npm run fleet -- add|generate|report`.
// Pure checks are called with plain data; the commands run on temporary copies of the repository.
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendEntry, addCluster } from '../scripts/lib/fleet/add.ts';
import { clusterDirFiles, overlayFeatures, overlaysReferenced, settingsProblem } from '../scripts/lib/fleet/cluster-dir.ts';
import { describeFleetDrift, isUpToDate, planFleet } from '../scripts/lib/fleet/generate.ts';
import { CLUSTER_FIELDS, checkInventory, readInventory, type ClusterEntry } from '../scripts/lib/fleet/inventory.ts';
import { deviationsOf, formatReport, sharedIdentities, type FleetReport } from '../scripts/lib/fleet/report.ts';
import { FLEET_GENERATE_COMMAND } from '../scripts/lib/gitops/fleet.ts';
import { writeTree } from '../scripts/lib/gitops/generated.ts';
import { formatText, tally } from '../scripts/lib/report/format-text.ts';
import { DEFAULT_KUBERNETES_VERSION } from '../scripts/lib/setup/schema-location.ts';
import { loadValidateConfig } from '../scripts/lib/validate/config.ts';
import { validateOverlays } from '../scripts/lib/validate/run.ts';
import { kubeconformValidator } from '../scripts/lib/validate/schema.ts';
import { findKustomize, kustomizeBuild } from '../scripts/lib/tools/kustomize.ts';
import { listOverlays } from '../scripts/lib/model/overlays.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { listClusters, listDefaultTargets, selectOverlays } from '../scripts/lib/model/select-overlays.ts';
import { defaultTargets } from '../scripts/lib/validate/targets.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';
import { parseObjects } from './helpers/render.ts';
import { runScript, type CommandOutput } from './helpers/run.ts';
import { useTempDirs } from './helpers/tmp.ts';
import { asCommandError } from './helpers/user-error.ts';

const TIMEOUT = 120_000;
const tempDir = useTempDirs();
const OVERLAYS = listOverlays().map((o) => o.name);
const context = { overlays: OVERLAYS, file: 'clusters/inventory.yaml', lineOf: (i: number) => 7 + i * 5 };
const entry = (over: Record<string, unknown> = {}): ClusterEntry => ({ name: 'site-a', overlay: 'single-node', server: 'https://a.example.net:6443', region: 'de-berlin', ...over });

/** A copy of what the fleet commands read and write, to change without touching the repository. */
async function repoCopy(): Promise<string> {
  const root = await tempDir();
  for (const dir of ['base', 'components', 'overlays', 'clusters', 'gitops']) await cp(path.join(REPO_ROOT, dir), path.join(root, dir), { recursive: true });
  return root;
}
const fleet = (root: string, args: string[]) => runScript('fleet.ts', [...args, '--root', root]);

// `npm run fleet` runs once per outcome of each subcommand (add: written, usage error; generate:
// up to date, --check drift, written with directories that still disagree; report: clean, a shared
// server). The other inputs call what scripts/fleet.ts calls with them:

/** `fleet generate --check --root ROOT` as scripts/fleet.ts composes it from planFleet: what it prints on stderr and exits with. */
async function generateCheck(root: string): Promise<CommandOutput> {
  const failed = await asCommandError(() => planFleet(root));
  if (failed.exitCode !== 0) return failed;
  const plan = planFleet(root);
  const stderr = [...plan.dirProblems, ...(isUpToDate(plan.drift) ? [] : [describeFleetDrift(plan)])];
  return { exitCode: stderr.length > 0 ? 1 : 0, stdout: '', stderr: stderr.map((line) => `${line}\n`).join('') };
}

/** `fleet generate --root ROOT`'s writes: the lines it prints on stdout. */
async function generateWrite(root: string): Promise<string> {
  const plan = planFleet(root);
  return (await writeTree(plan.tree, plan.drift)).map((line) => `${line}\n`).join('');
}

/** `fleet add NAME ... --root ROOT` up to the files it writes: what it exits with and prints when the entry is refused. */
const addRefused = (root: string, entry: ClusterEntry) => asCommandError(() => addCluster(root, entry, {}));

/** `npm run validate -- DIR...` as scripts/validate.ts runs it: its text output and exit code. */
async function validateText(dirs: string[]): Promise<CommandOutput> {
  const [kustomize, schema] = await Promise.all([findKustomize(), kubeconformValidator(DEFAULT_KUBERNETES_VERSION)]);
  const reports = await validateOverlays(kustomize, selectOverlays(dirs, 'usage: npm run validate'), { schema, externalSecrets: loadValidateConfig().externalSecrets });
  return { exitCode: tally(reports).errors > 0 ? 1 : 0, stdout: formatText(reports), stderr: '' };
}

describe('the inventory check (each bad input: the entry, the field, the fix, exit 1)', () => {
  it('accepts the shipped inventory: three production clusters and a dozen edge sites', () => {
    const { clusters } = readInventory();
    expect(clusters.filter((c) => c.overlay === 'production').map((c) => c.name).sort()).toEqual(['ap-southeast', 'eu-west', 'us-east']);
    expect(clusters.filter((c) => c.overlay === 'single-node')).toHaveLength(12);
    expect(new Set(clusters.map((c) => c.server)).size).toBe(clusters.length);
    for (const c of clusters) expect({ path: c.path, namespace: c.namespace }).toEqual({ path: `clusters/${c.name}`, namespace: `emqx-${c.overlay}` });
  });

  it('an unknown field names the entry, its line, the field and the fields an entry has', () => {
    const { problems } = checkInventory({ clusters: [entry(), entry({ name: 'site-b', server: 'https://b.example.net', replica: 3 })] }, context);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'unknown-field', entry: 'site-b' });
    expect(problems[0]!.message).toBe(
      'clusters/inventory.yaml:12: cluster "site-b": unknown field "replica". Fix: remove it or correct its spelling; an entry has name, overlay, server, region, zones, wave, oci, description. ' +
        "A cluster's own settings (replicas, storage, domain, ...) go into its directory, clusters/<name>/kustomization.yaml.",
    );
  });

  it('an overlay that does not exist names the entry and the overlays there are', () => {
    const { problems } = checkInventory({ clusters: [entry({ overlay: 'edge' })] }, context);
    expect(problems.map((p) => p.kind)).toEqual(['unknown-overlay']);
    expect(problems[0]!.message).toContain('cluster "site-a": field overlay: overlays/edge does not exist. Fix: use one of ');
    expect(problems[0]!.message).toContain('single-node');
  });

  it('two clusters with the same name, or the same server (trailing slash and host case ignored), name both entries', () => {
    const names = checkInventory({ clusters: [entry(), entry({ server: 'https://other.example.net' })] }, context).problems;
    expect(names.map((p) => p.kind)).toEqual(['duplicate-name']);
    expect(names[0]!.message).toMatch(/^clusters\/inventory\.yaml:7 \(site-a\) and clusters\/inventory\.yaml:12 \(site-a\): the same name "site-a"\. Fix: each cluster needs its own name/);
    const servers = checkInventory({ clusters: [entry(), entry({ name: 'site-b', server: 'https://A.example.net:6443/' })] }, context).problems;
    expect(servers.map((p) => [p.kind, p.entry])).toEqual([['duplicate-server', 'site-b']]);
    expect(servers[0]!.message).toContain('(site-a) and clusters/inventory.yaml:12 (site-b): the same server "https://a.example.net:6443"');
    expect(servers[0]!.message).toContain("give each entry its own cluster's server, or remove one");
  });

  it('missing fields, bad values, a name that is an overlay\'s, and a file that is not a list', () => {
    const kinds = (data: unknown) => checkInventory(data, context).problems.map((p) => p.kind);
    expect(kinds({ clusters: [{ name: 'x', overlay: 'single-node' }] })).toEqual(['missing-field', 'missing-field']);
    expect(checkInventory({ clusters: [{ name: 'x', overlay: 'single-node', region: 'r' }] }, context).problems[0]!.message).toContain('field server is missing. Fix: add `server: ...`');
    expect(kinds({ clusters: [entry({ server: 'http://plain.example.net' })] })).toEqual(['bad-value']);
    expect(kinds({ clusters: [entry({ name: 'Site_A' })] })).toEqual(['bad-value']);
    expect(checkInventory({ clusters: [entry({ name: 'production' })] }, context).problems[0]!.message).toContain('rendered/production.yaml');
    expect(kinds({ clusters: [entry({ zones: 'a' })] })).toEqual(['bad-value']);
    expect(kinds({ cluster: [] })).toEqual(['unknown-field', 'shape']);
    expect(kinds([entry()])).toEqual(['shape']);
  });

  it('inventory.schema.json allows exactly the fields the checker allows', () => {
    const schema = JSON.parse(readFileSync(path.join(REPO_ROOT, 'clusters', 'inventory.schema.json'), 'utf8'));
    const item = schema.properties.clusters.items;
    expect(Object.keys(item.properties).sort()).toEqual([...CLUSTER_FIELDS].sort());
    expect(item.additionalProperties).toBe(false);
    expect(item.required.sort()).toEqual(['name', 'overlay', 'region', 'server']);
    expect(readFileSync(path.join(REPO_ROOT, 'clusters', 'inventory.yaml'), 'utf8')).toMatch(/^---\n# yaml-language-server: \$schema=\.\/inventory\.schema\.json\n/);
  });

  it('`fleet generate` on a bad inventory lists every problem with its line, exits 1, no stack trace', { timeout: TIMEOUT }, async () => {
    const root = await repoCopy();
    const file = path.join(root, 'clusters', 'inventory.yaml');
    const text = (await readFile(file, 'utf8'))
      .replace('server: https://10.42.0.10:6443', 'server: https://10.41.0.10:6443')
      .replace('overlay: single-node\n    server: https://10.43.0.10:6443', 'overlay: edge\n    server: https://10.43.0.10:6443');
    await writeFile(file, text);
    const out = await generateCheck(root);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(/clusters\/inventory\.yaml:\d+: cluster "depot-gdansk": field overlay: overlays\/edge does not exist/);
    expect(out.stderr).toMatch(/clusters\/inventory\.yaml:\d+ \(depot-rotterdam\) and clusters\/inventory\.yaml:\d+ \(depot-hamburg\): the same server "https:\/\/10\.41\.0\.10:6443"/);
    expect(out.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('npm run fleet -- add', () => {
  it('adds the entry, a directory that renders and validates clean, and its Argo CD and Flux files', { timeout: TIMEOUT }, async () => {
    const root = await repoCopy();
    const add = await fleet(root, ['add', 'store-0500', '--overlay', 'single-node', '--server', 'https://store-0500.edge.example.net:6443', '--region', 'nl-utrecht', '--storage-size', '3Gi', '--storage-class', 'local-path', '--cluster-domain', 'store.internal']);
    expect(add.exitCode, add.stderr).toBe(0);
    expect(add.stdout).toContain('wrote   clusters/store-0500/kustomization.yaml');
    expect(add.stdout).toContain('wrote   gitops/flux/clusters/store-0500/kustomization-emqx.yaml');
    expect(readInventory({ root }).clusters.find((c) => c.name === 'store-0500')).toMatchObject({ overlay: 'single-node', server: 'https://store-0500.edge.example.net:6443', region: 'nl-utrecht' });
    expect(readFileSync(path.join(root, 'gitops', 'argocd', 'fleet', 'applicationset.yaml'), 'utf8')).toContain('cluster: store-0500');
    expect((await generateCheck(root)).exitCode).toBe(0);

    const built = await kustomizeBuild(await findKustomize(), path.join(root, 'clusters', 'store-0500'));
    if (!built.ok) throw new Error(built.message);
    const objects = parseObjects(built.yaml);
    const sts = objects.find((o) => o.kind === 'StatefulSet') as unknown as { spec: { volumeClaimTemplates: { spec: { storageClassName: string; resources: { requests: { storage: string } } } }[] } };
    expect(sts.spec.volumeClaimTemplates[0]!.spec).toMatchObject({ storageClassName: 'local-path', resources: { requests: { storage: '3Gi' } } });
    const env = objects.find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> };
    expect(env.data.EMQX_CLUSTER__K8S__SUFFIX).toBe('svc.store.internal');
    expect(new Set(objects.map((o) => o.metadata.namespace).filter(Boolean))).toEqual(new Set(['emqx-single-node']));

    // One run: the cluster and its Flux folder share a base name, so validate names them by path
    // (only build, which writes a file per name, refuses that).
    const dirs = ['clusters/store-0500', 'gitops/argocd/fleet', 'gitops/flux/clusters/store-0500'];
    const validate = await validateText(dirs.map((d) => path.join(root, d)));
    expect(validate.stdout + validate.stderr).toMatch(/3 overlays, \d+ objects: 0 errors, 0 warnings/);
    expect(validate.stdout).toContain('clusters/store-0500:');
    expect(validate.stdout).toContain('gitops/flux/clusters/store-0500:');
    expect(validate.exitCode).toBe(0);
  });

  it('refuses a duplicate server and an unknown overlay before writing anything (exit 1)', { timeout: TIMEOUT }, async () => {
    const root = await repoCopy();
    const dup = await addRefused(root, { name: 'store-0501', overlay: 'single-node', server: 'https://10.43.0.10:6443', region: 'x' });
    expect(dup.exitCode).toBe(1);
    expect(dup.stderr).toContain('(depot-gdansk) and clusters/inventory.yaml (store-0501): the same server');
    const bad = await addRefused(root, { name: 'store-0502', overlay: 'edge', server: 'https://s.example.net', region: 'x' });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('cluster "store-0502": field overlay: overlays/edge does not exist');
    expect(existsSync(path.join(root, 'clusters', 'store-0501'))).toBe(false);
    expect(existsSync(path.join(root, 'clusters', 'store-0502'))).toBe(false);
    expect(readFileSync(path.join(root, 'clusters', 'inventory.yaml'), 'utf8')).toBe(readFileSync(path.join(REPO_ROOT, 'clusters', 'inventory.yaml'), 'utf8'));
    const usage = await fleet(root, ['add', 'x', '--overlay', 'single-node']);
    expect(usage.exitCode).toBe(2);
  });

  it('settings the overlay cannot take are refused with the fix', () => {
    const features = overlayFeatures({ components: ['../../components/persistence'] });
    expect(features).toMatchObject({ persistence: true, tls: false, loadbalancer: false });
    expect(settingsProblem(entry(), { tlsNames: ['mqtt.example.com'] }, features)).toContain('serves no TLS (components/tls)');
    expect(settingsProblem(entry(), { replicas: 3 }, features)).toContain('does not cluster');
    expect(settingsProblem(entry(), { storageSize: '10 GB' }, features)).toContain('not a Kubernetes quantity');
  });

  it('on a TLS overlay, a cluster domain also renames the certificate names the overlay filled in', () => {
    const files = clusterDirFiles(entry({ overlay: 'production' }), { clusterDomain: 'k8s.internal' }, overlayFeatures({ components: ['../../components/tls'] }));
    expect(files.get('patches/certificate-names.yaml')).toContain('value: emqx.emqx-production.svc.k8s.internal');
    expect(overlaysReferenced({ resources: ['../../overlays/production', 'extra.yaml'] })).toEqual(['production']);
  });

  it('appends an entry to the inventory keeping its comments', () => {
    const text = '---\n# why this file\nclusters:\n  # the first\n  - name: a\n    overlay: single-node\n    server: https://a\n    region: r\n';
    const next = appendEntry(text, { name: 'b', overlay: 'single-node', server: 'https://b', region: 'r' });
    expect(next).toContain('# why this file');
    expect(next).toContain('  # the first\n');
    expect(next).toMatch(/ {2}- name: b\n {4}overlay: single-node\n/);
  });
});

describe(`${FLEET_GENERATE_COMMAND} --check`, () => {
  it('is clean on the shipped fleet', { timeout: TIMEOUT }, async () => {
    const out = await runScript('fleet.ts', ['generate', '--check']);
    expect(out.stderr).toBe('');
    expect(out.stdout).toMatch(/up to date \(15 clusters\)/);
    expect(out.exitCode).toBe(0);
  });

  it('an entry added by hand: the missing GitOps files, the command, and the missing directory with both sides named', { timeout: TIMEOUT }, async () => {
    const root = await repoCopy();
    const file = path.join(root, 'clusters', 'inventory.yaml');
    await writeFile(file, `${await readFile(file, 'utf8')}  - name: store-0600\n    overlay: single-node\n    server: https://store-0600.example.net\n    region: be-ghent\n`);
    const out = await fleet(root, ['generate', '--check']);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain('clusters/inventory.yaml lists cluster "store-0600", but clusters/store-0600/ does not exist');
    expect(out.stderr).toContain('missing:   gitops/flux/clusters/store-0600/kustomization-emqx.yaml');
    expect(out.stderr).toContain('outdated:  gitops/argocd/fleet/applicationset.yaml');
    expect(out.stderr).toContain('outdated:  gitops/argocd/fleet/appproject.yaml');
    expect(out.stderr).toContain(`Fix: run \`${FLEET_GENERATE_COMMAND}\``);
    // generate writes the GitOps files but still fails on the directory it cannot invent.
    const gen = await fleet(root, ['generate']);
    expect(gen.exitCode).toBe(1);
    expect(gen.stdout).toContain('wrote   gitops/flux/clusters/store-0600/kustomization.yaml');
    expect(existsSync(path.join(root, 'gitops', 'flux', 'clusters', 'store-0600', 'kustomization.yaml'))).toBe(true);
  });

  it('an entry removed from the inventory: its Flux folder is left over and its directory is named with the inventory', { timeout: TIMEOUT }, async () => {
    const root = await repoCopy();
    const file = path.join(root, 'clusters', 'inventory.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/ {2}- name: store-0391\n(?: {4}.*\n)+/, ''));
    const out = await generateCheck(root);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain('clusters/store-0391/ exists, but clusters/inventory.yaml has no cluster "store-0391"');
    expect(out.stderr).toContain('left over: gitops/flux/clusters/store-0391/kustomization.yaml');
    const gen = await generateWrite(root);
    expect(gen).toContain('removed gitops/flux/clusters/store-0391/kustomization.yaml');
    expect(existsSync(path.join(root, 'gitops', 'flux', 'clusters', 'store-0391'))).toBe(false);
  });

  it('a directory deleted, or built on another overlay than the inventory says, names both sides', { timeout: TIMEOUT }, async () => {
    const root = await repoCopy();
    await rm(path.join(root, 'clusters', 'depot-gdansk'), { recursive: true });
    const k = path.join(root, 'clusters', 'store-0103', 'kustomization.yaml');
    await writeFile(k, (await readFile(k, 'utf8')).replace('../../overlays/single-node', '../../overlays/statefulset-hostname-pvc'));
    const out = await generateCheck(root);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain('clusters/inventory.yaml lists cluster "depot-gdansk", but clusters/depot-gdansk/ does not exist');
    expect(out.stderr).toContain('clusters/store-0103/kustomization.yaml: field resources: the directory builds on overlays/statefulset-hostname-pvc, but clusters/inventory.yaml says cluster "store-0103" runs overlays/single-node');
  });

  it('a hand edit of a generated file is outdated', { timeout: TIMEOUT }, async () => {
    const root = await repoCopy();
    const f = path.join(root, 'gitops', 'flux', 'clusters', 'eu-west', 'kustomization-emqx.yaml');
    await writeFile(f, (await readFile(f, 'utf8')).replace('path: ./clusters/eu-west', 'path: ./clusters/us-east'));
    const out = await generateCheck(root);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain('outdated:  gitops/flux/clusters/eu-west/kustomization-emqx.yaml');
  });
});

const obj = (kind: string, name: string, rest: Record<string, unknown> = {}): K8sObject => ({ apiVersion: 'v1', kind, metadata: { name, namespace: 'emqx-x' }, ...rest }) as unknown as K8sObject;

describe('npm run fleet -- report', () => {
  it('shows each deviation as field, overlay value -> cluster value; generated-name hashes and list indexes do not count', () => {
    const overlay = [obj('ConfigMap', 'emqx-env-aaaaaaaaaa', { data: { A: '1' } }), obj('StatefulSet', 'emqx', { spec: { replicas: 1, template: { spec: { containers: [{ name: 'emqx', envFrom: [{ configMapRef: { name: 'emqx-env-aaaaaaaaaa' } }] }] } } } })];
    const cluster = [obj('ConfigMap', 'emqx-env-bbbbbbbbbb', { data: { A: '2' } }), obj('StatefulSet', 'emqx', { spec: { replicas: 1, template: { spec: { containers: [{ name: 'emqx', envFrom: [{ configMapRef: { name: 'emqx-env-bbbbbbbbbb' } }] }] } } } })];
    expect(deviationsOf('c', 'o', overlay, cluster)).toEqual([{ cluster: 'c', overlay: 'o', object: 'ConfigMap/emqx-env', field: '/data/A', from: '1', to: '2' }]);
    const withLimit = [cluster[0]!, obj('StatefulSet', 'emqx', { spec: { replicas: 1, template: { spec: { containers: [{ name: 'emqx', envFrom: [{ configMapRef: { name: 'emqx-env-bbbbbbbbbb' } }], resources: { limits: { memory: '1Gi' } } }] } } } })];
    expect(deviationsOf('c', 'o', overlay, withLimit).map((d) => `${d.field} ${d.from} -> ${d.to}`)).toContain('/spec/template/spec/containers/name=emqx/resources/limits/memory (absent) -> 1Gi');
  });

  it('never shows a Secret value', () => {
    const rows = deviationsOf('c', 'o', [obj('Secret', 'emqx-secrets', { data: { 'node-cookie': 'c2VjcmV0MQ==' } })], [obj('Secret', 'emqx-secrets', { data: { 'node-cookie': 'c2VjcmV0Mg==', extra: 'eA==' } })]);
    expect(rows.map((r) => [r.field, r.from, r.to])).toEqual([
      ['/data/extra', '(absent)', '(hidden)'],
      ['/data/node-cookie', '(hidden)', '(hidden)'],
    ]);
    expect(JSON.stringify(rows)).not.toMatch(/c2Vj|eA==/);
  });

  it('flags clusters that share a server, a public name or a cookie source', () => {
    const cert = (n: string) => obj('Certificate', 'emqx-tls', { spec: { dnsNames: ['emqx', 'emqx.emqx-x', 'emqx.emqx-x.svc', n] } });
    const es = (key: string) => obj('ExternalSecret', 'emqx-secrets', { spec: { secretStoreRef: { kind: 'ClusterSecretStore', name: 's' }, data: [{ secretKey: 'node-cookie', remoteRef: { key } }] } });
    const shared = sharedIdentities([
      { name: 'a', server: 'https://one.example.net', objects: [cert('mqtt.example.com'), es('emqx/node-cookie')] },
      { name: 'b', server: 'https://ONE.example.net/', objects: [cert('mqtt.example.com'), es('emqx/b/node-cookie')] },
      { name: 'c', server: 'https://three.example.net', objects: [es('emqx/node-cookie')] },
    ]);
    expect(shared.map((s) => [s.what, s.value, s.clusters])).toEqual([
      ['server', 'https://one.example.net', ['a', 'b']],
      ['public name', 'mqtt.example.com', ['a', 'b']],
      ['cookie source', 'ClusterSecretStore/s: emqx/node-cookie', ['a', 'c']],
    ]);
  });

  it('on the shipped fleet: every cluster, an edge site\'s storage size, no shared identity, exit 0', { timeout: TIMEOUT }, async () => {
    const out = await runScript('fleet.ts', ['report', '--format', 'json']);
    expect(out.exitCode, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout) as FleetReport;
    expect(report.clusters.map((c) => c.name)).toEqual(listClusters().map((c) => c.name));
    expect(report.shared).toEqual([]);
    expect(report.deviations).toContainEqual({ cluster: 'factory-stuttgart', overlay: 'single-node', object: 'StatefulSet/emqx', field: '/spec/volumeClaimTemplates/0/spec/resources/requests/storage', from: '(absent)', to: '20Gi' });
    expect(report.deviations).toContainEqual({ cluster: 'eu-west', overlay: 'production', object: 'StatefulSet/emqx', field: '/spec/replicas', from: '3', to: '5' });
    expect(report.clusters.find((c) => c.name === 'depot-gdansk')!.deviations).toBe(0);
    const text = formatReport(report, 'text');
    expect(text).toMatch(/^2 +factory-stuttgart +single-node +StatefulSet\/emqx +\/spec\/volumeClaimTemplates\/0\/spec\/resources\/requests\/storage +\(absent\) +20Gi$/m);
    expect(text).toMatch(/^2 +depot-gdansk +single-node +\(same as the overlay\)$/m);
    expect(report.clusters.find((c) => c.name === 'store-0012')!.wave).toBe(1);
    const md = formatReport(report, 'markdown');
    expect(md).toContain('| 3 | eu-west | production | `StatefulSet/emqx` | `/spec/replicas` | `3` | `5` |');
  });

  it('flags a duplicate server in the inventory, naming both clusters, exit 1', { timeout: TIMEOUT }, async () => {
    const root = await repoCopy();
    // The two clusters that collide, alone: the report renders each cluster of the inventory.
    const file = path.join(root, 'clusters', 'inventory.yaml');
    const names = ['store-0103', 'store-0391'];
    const clusters = readInventory({ root }).clusters;
    const both = clusters.filter((c) => names.includes(c.name));
    for (const c of clusters) if (!names.includes(c.name)) await rm(c.dir, { recursive: true });
    const entries = both.map((c) => `  - name: ${c.name}\n    overlay: ${c.overlay}\n    server: https://store-0103.edge.example.net:6443\n    region: ${c.region}\n`);
    await writeFile(file, `---\nclusters:\n${entries.join('')}`);
    const out = await fleet(root, ['report']);
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toContain('shared server or identity:');
    expect(out.stdout).toMatch(/ {2}server https:\/\/store-0103\.edge\.example\.net:6443: store-0103, store-0391: both would deploy to one cluster/);
    // Only the collision: both clusters rendered.
    expect(out.stdout).not.toContain('kustomize build failed');
    expect(out.stdout).toMatch(/store-0391 +single-node/);
  });
});

describe('the cluster directories are default targets', () => {
  it('build, diff and validate take overlays/ then clusters/, names sorted naturally; the GitOps folders are validated too', () => {
    const targets = listDefaultTargets().map((t) => path.relative(REPO_ROOT, t.dir));
    expect(targets).toEqual([...listOverlays().map((o) => `overlays/${o.name}`), ...readInventory().clusters.map((c) => c.path).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))]);
    const validated = defaultTargets().map((t) => path.relative(REPO_ROOT, t.dir));
    expect(validated).toEqual(expect.arrayContaining(['clusters/eu-west', 'gitops/argocd/fleet', 'gitops/flux/clusters/eu-west', 'gitops/flux/clusters/store-0391']));
  });

  it('listClusters sorts site-2 before site-10', async () => {
    const root = await tempDir();
    for (const n of ['site-10', 'site-2', 'site-1']) {
      await mkdir(path.join(root, n));
      await writeFile(path.join(root, n, 'kustomization.yaml'), 'resources: []\n');
    }
    expect(listClusters(root).map((c) => c.name)).toEqual(['site-1', 'site-2', 'site-10']);
  });
});
