// Air-gapped edge sites: an inventory entry with `oci:` pulls its render from a registry, and
// `npm run fleet -- generate` writes its Flux folder with an OCIRepository instead of Git. The
// real source-controller pulling what that folder declares is test/publish-flux.test.ts.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isUpToDate, planFleet } from '../scripts/lib/fleet/generate.ts';
import { checkInventory, OCI_FIELDS } from '../scripts/lib/fleet/inventory.ts';
import { listOverlays } from '../scripts/lib/model/overlays.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';
import { selectOverlays } from '../scripts/lib/model/select-overlays.ts';
import { DEFAULT_KUBERNETES_VERSION } from '../scripts/lib/setup/schema-location.ts';
import { findKustomize, kustomizeBuild } from '../scripts/lib/tools/kustomize.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { tally } from '../scripts/lib/report/format-text.ts';
import { validateOverlays } from '../scripts/lib/validate/run.ts';
import { kubeconformValidator } from '../scripts/lib/validate/schema.ts';
import { ociFleetCopy } from './helpers/oci-fleet.ts';
import { parseObjects } from './helpers/render.ts';
import { useSuiteTempDirs } from './helpers/tmp.ts';

const TIMEOUT = 120_000;
const context = { overlays: listOverlays().map((o) => o.name), file: 'clusters/inventory.yaml', lineOf: (i: number) => 7 + i * 6 };
const entry = (oci: unknown) => ({ clusters: [{ name: 'store-9', overlay: 'single-node', server: 'https://s9.example.net:6443', region: 'it-milan', oci }] });
const messages = (oci: unknown) => checkInventory(entry(oci), context).problems.map((p) => p.message);

const REGISTRY = 'registry.edge.example.net:5000/emqx';
/** store-0391 (wave 2) pulls over plain HTTP, depot-hamburg over TLS with a private CA and credentials. */
const sites = (root: string) =>
  ociFleetCopy(root, { 'store-0391': { registry: REGISTRY, insecure: true }, 'depot-hamburg': { registry: REGISTRY, caSecret: 'registry-ca', pullSecret: 'registry-auth' } });

const only = (objects: K8sObject[], kind: string) => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]! as K8sObject & { spec: Record<string, unknown> };
};

describe('an inventory entry that pulls from an OCI registry', () => {
  it('accepts registry, insecure, caSecret and pullSecret; inventory.schema.json has the same fields', () => {
    expect(messages({ registry: '127.0.0.1:5000/edge', insecure: true })).toEqual([]);
    expect(messages({ registry: 'registry.example.net/emqx/sites', caSecret: 'registry-ca', pullSecret: 'registry-auth' })).toEqual([]);
    const schema = JSON.parse(readFileSync(path.join(REPO_ROOT, 'clusters', 'inventory.schema.json'), 'utf8')).properties.clusters.items.properties.oci;
    expect(Object.keys(schema.properties).sort()).toEqual([...OCI_FIELDS].sort());
    expect(schema.required).toEqual(['registry']);
    expect(schema.additionalProperties).toBe(false);
  });

  it('refuses each bad value naming the entry, its line, the field and the fix', () => {
    const where = 'clusters/inventory.yaml:7: cluster "store-9": ';
    expect(messages({})).toEqual([`${where}field oci.registry: missing. Fix: \`oci: {registry: registry.site.example.net:5000/emqx, insecure: true}\` (plain HTTP) or with \`caSecret: <Secret with ca.crt>\` (docs/fleet.md, "Edge sites from an OCI registry").`]);
    expect(messages({ registry: 'http://127.0.0.1:5000/edge' })[0]).toBe(`${where}field oci.registry: "http://127.0.0.1:5000/edge" has a scheme. Fix: write it as \`npm run publish -- --registry\` takes it, 127.0.0.1:5000/edge; plain HTTP is \`insecure: true\`.`);
    expect(messages({ registry: '127.0.0.1:5000' })[0]).toContain('field oci.registry: "127.0.0.1:5000" is not HOST[:PORT]/PATH with a lower-case path.');
    expect(messages({ registry: 'r.example.net/Edge' })[0]).toContain('is not HOST[:PORT]/PATH with a lower-case path');
    expect(messages({ registry: 'r.example.net/e', insecure: true, caSecret: 'ca' })).toEqual([`${where}field oci: insecure and caSecret together. Fix: plain HTTP needs no CA: keep \`insecure: true\` for plain HTTP, or \`caSecret\` for TLS with a private CA.`]);
    expect(messages({ registry: 'r.example.net/e', insecure: 'yes' })[0]).toContain('field oci.insecure: expected true or false, found "yes"');
    expect(messages({ registry: 'r.example.net/e', pullSecret: 'Auth_Secret' })[0]).toContain('field oci.pullSecret: expected a Secret\'s name in flux-system, found "Auth_Secret"');
    expect(messages({ registry: 'r.example.net/e', tag: 'latest' })[0]).toBe(`${where}field oci.tag: unknown. Fix: remove it or correct its spelling; oci has registry, insecure, caSecret, pullSecret.`);
    expect(messages('r.example.net/e')[0]).toContain('field oci: expected a mapping with registry.');
  });
});

describe('npm run fleet -- generate for an OCI site', () => {
  // One copy, generated once: each test only reads it.
  const suiteDir = useSuiteTempDirs();
  let root: string;
  beforeAll(async () => {
    root = await sites(await suiteDir());
  }, TIMEOUT);

  it('writes an OCIRepository at the wave tag and a Kustomization of it, with no Git source and no self-sync', { timeout: TIMEOUT }, async () => {
    expect(isUpToDate(planFleet(root).drift)).toBe(true);
    const folder = path.join(root, 'gitops', 'flux', 'clusters', 'store-0391');
    expect(existsSync(path.join(folder, 'kustomization-gitops.yaml'))).toBe(false);
    const built = await kustomizeBuild(await findKustomize(), folder);
    expect(built.ok).toBe(true);
    const objects = parseObjects(built.ok ? built.yaml : '');
    expect(objects.map((o) => o.kind).sort()).toEqual(['Kustomization', 'Namespace', 'OCIRepository']);
    expect(only(objects, 'OCIRepository').spec).toEqual({ interval: '5m', url: 'oci://registry.edge.example.net:5000/emqx/store-0391', ref: { tag: 'wave-2' }, insecure: true });
    // The shared defaults still apply (prune, wait, SOPS); only the source is the registry.
    expect(only(objects, 'Kustomization')).toMatchObject({
      metadata: { name: 'emqx-store-0391', namespace: 'flux-system' },
      spec: { path: './', targetNamespace: 'emqx-single-node', prune: true, wait: true, sourceRef: { kind: 'OCIRepository', name: 'emqx-store-0391' }, decryption: { provider: 'sops' } },
    });

    const tls = await kustomizeBuild(await findKustomize(), path.join(root, 'gitops', 'flux', 'clusters', 'depot-hamburg'));
    const tlsRepo = only(parseObjects(tls.ok ? tls.yaml : ''), 'OCIRepository').spec;
    expect(tlsRepo).toEqual({ interval: '5m', url: 'oci://registry.edge.example.net:5000/emqx/depot-hamburg', ref: { tag: 'wave-2' }, certSecretRef: { name: 'registry-ca' }, secretRef: { name: 'registry-auth' } });
  });

  it('leaves OCI sites out of Argo CD, which reads Git and pushes to the API server', { timeout: TIMEOUT }, async () => {
    const appset = readFileSync(path.join(root, 'gitops', 'argocd', 'fleet', 'applicationset.yaml'), 'utf8');
    const project = readFileSync(path.join(root, 'gitops', 'argocd', 'fleet', 'appproject.yaml'), 'utf8');
    for (const text of [appset, project]) {
      expect(text).not.toContain('store-0391');
      expect(text).not.toContain('https://10.42.0.10:6443'); // depot-hamburg's server
    }
    expect(appset).toContain('- cluster: store-0103');
  });

  it('validate passes the generated folders: the OCIRepository against the pinned Flux schemas', { timeout: TIMEOUT }, async () => {
    const dirs = ['store-0391', 'depot-hamburg'].map((c) => path.join(root, 'gitops', 'flux', 'clusters', c));
    const [kustomize, schema] = await Promise.all([findKustomize(), kubeconformValidator(DEFAULT_KUBERNETES_VERSION)]);
    const reports = await validateOverlays(kustomize, selectOverlays(dirs, 'usage'), { schema });
    expect(reports.flatMap((r) => r.findings.filter((f) => f.severity === 'error').map((f) => f.message))).toEqual([]);
    expect(tally(reports).errors).toBe(0);
  });
});
