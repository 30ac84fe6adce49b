// gitops/argocd and gitops/flux: rendered with the real kustomize, and checked against every
// overlay under overlays/ so that a new overlay that Argo CD or Flux would miss fails here.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { applicationsFor, applicationsFromList, directoryPattern, expandGoTemplate, kindsNotAllowed, type GeneratedApplication } from '../scripts/lib/gitops/argocd.ts';
import { readInventory } from '../scripts/lib/fleet/inventory.ts';
import { FLEET_GENERATE_COMMAND, fluxEntryPath, readWhitelists, WAVE_LABEL, waveBranch } from '../scripts/lib/gitops/fleet.ts';
import { compareFluxFiles, describeDrift, FLUX_GENERATE_COMMAND, fluxFilesFor, isUpToDate, namespaceLabels, overlayNamespace } from '../scripts/lib/gitops/flux.ts';
import { writeTree } from '../scripts/lib/gitops/generated.ts';
import { findKubeconform, validateManifests } from '../scripts/lib/tools/kubeconform.ts';
import { findKustomize, kustomizeBuild } from '../scripts/lib/tools/kustomize.ts';
import { listOverlays } from '../scripts/lib/model/overlays.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { DEFAULT_KUBERNETES_MINOR } from '../scripts/lib/setup/tool-versions.ts';
import { find, only, parseObjects, renderRepoOverlays } from './helpers/render.ts';
import { runScript } from './helpers/run.ts';
import { useTempDirs } from './helpers/tmp.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';

const ARGOCD_DIR = path.join(REPO_ROOT, 'gitops', 'argocd');
const FLUX_DIR = path.join(REPO_ROOT, 'gitops', 'flux');
const REPOSITORY_ENV = path.join(REPO_ROOT, 'gitops', 'repository', 'repository.env');

/** repository.env, parsed as kustomize reads an env file. */
function repositorySettings(): { url: string; revision: string } {
  const entries = readFileSync(REPOSITORY_ENV, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
  const settings = Object.fromEntries(entries) as { url?: string; revision?: string };
  if (!settings.url || !settings.revision) throw new Error(`${REPOSITORY_ENV} must set url and revision`);
  return { url: settings.url, revision: settings.revision };
}

/** `kustomize build` of a directory in the repository, once per test file: several tests read the same render. */
const repoRenders = new Map<string, Promise<string>>();
function renderYaml(dir: string): Promise<string> {
  if (!dir.startsWith(REPO_ROOT + path.sep)) return freshYaml(dir);
  if (!repoRenders.has(dir)) repoRenders.set(dir, freshYaml(dir));
  return repoRenders.get(dir)!;
}
async function freshYaml(dir: string): Promise<string> {
  const result = await kustomizeBuild(await findKustomize(), dir);
  if (!result.ok) throw new Error(`kustomize build ${dir} failed: ${result.message}`);
  return result.yaml;
}

async function build(dir: string): Promise<K8sObject[]> {
  return parseObjects(await renderYaml(dir));
}

type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const specOf = (o: K8sObject) => (o as unknown as { spec: Spec }).spec;

const overlays = listOverlays();
const overlayNames = overlays.map((o) => o.name);
let rendered: Map<string, K8sObject[]>;
let argocd: K8sObject[];
let flux: K8sObject[];

beforeAll(async () => {
  [rendered, argocd, flux] = await Promise.all([renderRepoOverlays(overlays), build(ARGOCD_DIR), build(FLUX_DIR)]);
});

describe('the overlays, as both tools deploy them', () => {
  it('finds overlays to check', () => {
    expect(overlayNames.length).toBeGreaterThan(0);
  });

  it('each overlay renders every namespaced object into emqx-<overlay name>, the namespace Argo CD and Flux target', () => {
    for (const name of overlayNames) {
      const namespaces = new Set(rendered.get(name)!.map((o) => o.metadata.namespace).filter((ns) => ns !== undefined));
      expect([...namespaces], `overlay ${name}`).toEqual([overlayNamespace(name)]);
    }
  });

  it('StatefulSet volumeClaimTemplates carry what the API server fills in, and their claims outlive the StatefulSet', () => {
    // The Argo CD OutOfSync issue (argoproj/argo-cd#11143) is handled in the manifests, not with
    // ignoreDifferences: this pins it for every overlay, including ones added later.
    for (const [name, objects] of rendered) {
      for (const sts of find(objects, 'StatefulSet')) {
        const templates = (specOf(sts).volumeClaimTemplates ?? []) as Spec[];
        for (const t of templates) {
          expect({ apiVersion: t.apiVersion, kind: t.kind, volumeMode: t.spec?.volumeMode }, `overlay ${name}, claim ${t.metadata?.name}`).toEqual({
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            volumeMode: 'Filesystem',
          });
        }
        // Deleting the Application or the Flux Kustomization deletes the StatefulSet; the data stays.
        if (templates.length > 0) expect(specOf(sts).persistentVolumeClaimRetentionPolicy, `overlay ${name}`).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
      }
    }
  });
});

describe('Argo CD (gitops/argocd)', () => {
  const appset = () => only(argocd, 'ApplicationSet', 'emqx');
  const project = () => only(argocd, 'AppProject', 'emqx');

  it('renders only the AppProject and the ApplicationSet, in the argocd namespace, with every placeholder replaced', () => {
    expect(argocd.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual(['AppProject/argocd/emqx', 'ApplicationSet/argocd/emqx']);
    expect(JSON.stringify(argocd)).not.toContain('<gitops/repository');
  });

  it('generates from the git directories overlays/*, with Go templates that fail on a missing key', () => {
    const spec = specOf(appset());
    const { url, revision } = repositorySettings();
    expect(spec.goTemplate).toBe(true);
    expect(spec.goTemplateOptions).toContain('missingkey=error');
    expect(spec.generators).toEqual([{ git: { repoURL: url, revision, directories: expect.any(Array) } }]);
    // overlays/*, plus any overlay left out on purpose (the commented-out example in applicationset.yaml).
    const [all, ...excludes] = spec.generators[0].git.directories as Array<{ path: string; exclude?: boolean }>;
    expect(all).toEqual({ path: 'overlays/*' });
    for (const rule of excludes) expect(overlayNames.map((n) => ({ path: `overlays/${n}`, exclude: true })), JSON.stringify(rule)).toContainEqual(rule);
    expect(spec.template.spec.source).toEqual({ repoURL: url, targetRevision: revision, path: '{{.path.path}}' });
  });

  it('fixes the project as a literal, so a pull request cannot pick a project with more rights', () => {
    const project = specOf(appset()).template.spec.project;
    expect(project).toBe('emqx');
    expect(project).not.toContain('{{');
  });

  it('syncs automatically with prune, self-heal, retries, CreateNamespace and server-side apply', () => {
    const syncPolicy = specOf(appset()).template.spec.syncPolicy;
    expect(syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(syncPolicy.syncOptions).toEqual(expect.arrayContaining(['CreateNamespace=true', 'ServerSideApply=true']));
    expect(syncPolicy.retry.limit).toBeGreaterThan(0);
    expect(syncPolicy.retry.backoff).toMatchObject({ duration: expect.any(String), factor: expect.any(Number), maxDuration: expect.any(String) });
    expect(syncPolicy.managedNamespaceMetadata.labels).toEqual({ 'pod-security.kubernetes.io/enforce': 'restricted' });
  });

  it('prunes a removed overlay through the finalizer, and sets no policy that looks like it protects an ApplicationSet delete but does not', () => {
    // preserveResourcesOnDeletion is a no-op beside a template finalizer (Argo CD v3.6.1,
    // applicationset/utils/utils.go); uninstalling is `--cascade=orphan`, which test/e2e.test.ts runs.
    expect(specOf(appset()).syncPolicy).toBeUndefined();
    // The claims survive through the StatefulSet retention policy, pinned in the overlays' tests above.
    expect(specOf(appset()).template.metadata.finalizers).toEqual(['resources-finalizer.argocd.argoproj.io']);
  });

  it('limits the AppProject to this repository, emqx-* namespaces of this cluster, and Namespace as the only cluster-scoped kind', () => {
    const spec = specOf(project());
    expect(spec.sourceRepos).toEqual([repositorySettings().url]);
    expect(spec.destinations.length).toBeGreaterThan(0);
    for (const d of spec.destinations) expect(d).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'emqx-*' });
    expect(spec.clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace' }]);
    for (const entry of spec.namespaceResourceWhitelist) {
      expect(entry.group, 'no wildcard group').not.toContain('*');
      expect(entry.kind, 'no wildcard kind').not.toContain('*');
    }
  });

  it('whitelists every kind any overlay renders (a new kind fails here until the AppProject allows it)', () => {
    const gaps = [...rendered].flatMap(([name, objects]) => kindsNotAllowed(project(), objects).map((gk) => `overlay ${name}: ${gk.scope} ${gk.group || 'core'}/${gk.kind}`));
    expect(gaps, 'add these to gitops/argocd/appproject.yaml (namespaceResourceWhitelist or clusterResourceWhitelist)').toEqual([]);
  });

  it('whitelist check: a kind no entry allows is reported', () => {
    const objects = [{ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'x', namespace: 'emqx-a' } }];
    expect(kindsNotAllowed(project(), objects)).toEqual([{ group: 'bitnami.com', kind: 'SealedSecret', scope: 'Namespaced' }]);
  });
});

describe('Flux (gitops/flux)', () => {
  it('uses the current API versions and the repository and branch from repository.env', () => {
    const { url, revision } = repositorySettings();
    const repo = only(flux, 'GitRepository', 'emqx');
    expect(repo.apiVersion).toBe('source.toolkit.fluxcd.io/v1');
    expect(repo.metadata.namespace).toBe('flux-system');
    expect(specOf(repo)).toMatchObject({ url, ref: { branch: revision } });
    for (const k of find(flux, 'Kustomization')) expect(k.apiVersion, k.metadata.name).toBe('kustomize.toolkit.fluxcd.io/v1');
    expect(JSON.stringify(flux)).not.toContain('<gitops/repository');
  });

  it('gives each overlay a Kustomization with prune, wait, timeout, retries, its namespace and SOPS decryption', () => {
    for (const name of overlayNames) {
      const spec = specOf(only(flux, 'Kustomization', `emqx-${name}`));
      expect(spec, `overlay ${name}`).toMatchObject({
        path: `./overlays/${name}`,
        targetNamespace: overlayNamespace(name),
        prune: true,
        wait: true,
        timeout: expect.stringMatching(/^\d+m$/),
        retryInterval: expect.stringMatching(/^\d+m$/),
        interval: expect.stringMatching(/^\d+m$/),
        sourceRef: { kind: 'GitRepository', name: 'emqx' },
        decryption: { provider: 'sops' },
      });
    }
  });

  it('declares each overlay namespace (Flux does not create a targetNamespace) and never prunes it', () => {
    for (const name of overlayNames) {
      const ns = only(flux, 'Namespace', overlayNamespace(name));
      expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
      expect(ns.metadata.annotations?.['kustomize.toolkit.fluxcd.io/prune']).toBe('disabled');
    }
  });

  it('gives diff --server the labels of the Namespace it generates', () => {
    for (const name of overlayNames) {
      const ns = only(flux, 'Namespace', overlayNamespace(name));
      expect(namespaceLabels(overlayNamespace(name))).toEqual(ns.metadata.labels);
    }
    expect(namespaceLabels('emqx-x')).toEqual({ 'app.kubernetes.io/part-of': 'emqx', 'pod-security.kubernetes.io/enforce': 'restricted' });
  });

  it('keeps gitops/flux itself in sync, so a merge that adds an overlay deploys it', () => {
    const self = specOf(only(flux, 'Kustomization', 'emqx-gitops'));
    expect(self).toMatchObject({ path: './gitops/flux', prune: true, sourceRef: { kind: 'GitRepository', name: 'emqx' } });
    expect(self.targetNamespace).toBeUndefined();
  });

  it('components/sops-age points every overlay Kustomization, and only those, at the sops-age Secret', async () => {
    const dir = await tempDir();
    await writeFile(
      path.join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${path.relative(dir, FLUX_DIR)}\ncomponents:\n  - ${path.relative(dir, path.join(FLUX_DIR, 'components', 'sops-age'))}\n`,
    );
    const objects = await build(dir);
    for (const name of overlayNames) {
      expect(specOf(only(objects, 'Kustomization', `emqx-${name}`)).decryption).toEqual({ provider: 'sops', secretRef: { name: 'sops-age' } });
    }
    expect(specOf(only(objects, 'Kustomization', 'emqx-gitops')).decryption).toBeUndefined();
  });
});

const tempDir = useTempDirs();

describe('coverage: every directory under overlays/ is deployed by both tools, and nothing else is', () => {
  const overlayDirs = () => overlays.map((o) => path.relative(REPO_ROOT, o.dir).split(path.sep).join('/'));

  it('Argo CD: the ApplicationSet generates one Application per overlay, in the namespace the overlay renders into', () => {
    const appset = only(argocd, 'ApplicationSet', 'emqx');
    const apps = applicationsFor(appset, overlayDirs());
    // An overlay left out on purpose, by an exclude entry naming its directory (docs/gitops.md), is not missed.
    const excluded = new Set((specOf(appset).generators as Array<{ git?: { directories?: Array<{ path: string; exclude?: boolean }> } }>).flatMap((g) => g.git?.directories ?? []).filter((d) => d.exclude === true).map((d) => d.path));
    const missing = overlayNames.filter((name) => !apps.some((a) => a.dir === `overlays/${name}`) && !excluded.has(`overlays/${name}`));
    expect(missing, 'overlays the ApplicationSet generator does not match (gitops/argocd/applicationset.yaml)').toEqual([]);
    for (const app of apps) {
      const name = path.posix.basename(app.dir);
      expect({ name: app.name, path: app.path, namespace: app.namespace, project: app.project }).toEqual({
        name: `emqx-${name}`,
        path: `overlays/${name}`,
        namespace: rendered.get(name)!.find((o) => o.metadata.namespace)?.metadata.namespace,
        project: 'emqx',
      });
    }
  });

  it('Argo CD: the exclude entry in applicationset.yaml (shipped commented out), once uncommented, leaves production out and passes the schema', async () => {
    const source = readFileSync(path.join(ARGOCD_DIR, 'applicationset.yaml'), 'utf8');
    const commented = '          # - path: overlays/production\n          #   exclude: true\n';
    const uncommented = '          - path: overlays/production\n            exclude: true\n';
    // Shipped commented out; a fork that uncommented it is checked the same way.
    expect(source.includes(commented) || source.includes(uncommented)).toBe(true);
    const dir = await tempDir();
    await cp(path.join(REPO_ROOT, 'gitops'), path.join(dir, 'gitops'), { recursive: true });
    await writeFile(path.join(dir, 'gitops', 'argocd', 'applicationset.yaml'), source.replace(commented, uncommented));
    const result = await kustomizeBuild(await findKustomize(), path.join(dir, 'gitops', 'argocd'));
    if (!result.ok) throw new Error(result.message);
    const appset = only(parseObjects(result.yaml), 'ApplicationSet', 'emqx');
    expect(specOf(appset).generators[0].git.directories).toEqual([{ path: 'overlays/*' }, { path: 'overlays/production', exclude: true }]);
    const apps = applicationsFor(appset, overlayDirs());
    expect(apps.map((a) => a.dir).sort()).toEqual(overlayDirs().filter((d) => d !== 'overlays/production').sort());
    const checked = await validateManifests(await findKubeconform(), result.yaml, { kubernetesVersion: DEFAULT_KUBERNETES_MINOR });
    expect(checked.filter((r) => r.status !== 'statusValid').map((r) => `${r.kind}/${r.name}: ${r.status} ${r.msg}`)).toEqual([]);
  });

  it('Argo CD: the generator ignores what is not an overlay directory', () => {
    const apps: GeneratedApplication[] = applicationsFor(only(argocd, 'ApplicationSet', 'emqx'), ['overlays/a', 'overlays/a/patches', 'base', 'components/persistence']);
    expect(apps.map((a) => a.dir)).toEqual(['overlays/a']);
  });

  it('Flux: every overlay has a Kustomization and a Namespace, and no Kustomization points at a missing overlay', () => {
    const kustomizations = find(flux, 'Kustomization').filter((k) => k.metadata.labels?.['app.kubernetes.io/component'] === 'overlay');
    const deployed = kustomizations.map((k) => String(specOf(k).path).replace(/^\.\/overlays\//, ''));
    expect(overlayNames.filter((n) => !deployed.includes(n)), `overlays Flux misses: run \`${FLUX_GENERATE_COMMAND}\``).toEqual([]);
    expect(deployed.filter((n) => !overlayNames.includes(n)), `Kustomizations for removed overlays: run \`${FLUX_GENERATE_COMMAND}\``).toEqual([]);
  });

  it(`Flux: the committed gitops/flux/overlays matches overlays/ (else: run \`${FLUX_GENERATE_COMMAND}\`)`, async () => {
    const out = await runScript('gitops-flux.ts', ['--check']);
    expect(out.stderr).toBe('');
    expect(out.exitCode).toBe(0);
  });
});

// The command runs once per outcome it promises: written (exit 0), out of date with --check
// (exit 1, what is missing), an overlay Flux cannot deploy (exit 1, nothing written); the up-to-date
// --check (exit 0) is the repository's own, above. The other steps call what scripts/gitops-flux.ts
// calls (fluxFilesFor, compareFluxFiles, describeDrift, writeTree).
describe(`${FLUX_GENERATE_COMMAND} on a fixture repository`, () => {
  async function fixture(names: string[]): Promise<string> {
    const root = await tempDir();
    for (const name of names) await addOverlay(root, name);
    return root;
  }
  async function addOverlay(root: string, name: string, namespace = overlayNamespace(name)): Promise<void> {
    await mkdir(path.join(root, 'overlays', name), { recursive: true });
    await writeFile(path.join(root, 'overlays', name, 'kustomization.yaml'), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${namespace}\n`);
  }
  const generated = (root: string) => path.join(root, 'gitops', 'flux', 'overlays');
  /** What the command compares: the files under overlays/ ask for, and how the folder differs. */
  const plan = (root: string) => {
    const files = fluxFilesFor(listOverlays(path.join(root, 'overlays')).map((o) => o.name));
    return { files, drift: compareFluxFiles(generated(root), files) };
  };
  /** `npm run gitops:flux -- --root ROOT` without --check, as the command writes: the lines it prints. */
  const generate = async (root: string) => {
    const { files, drift } = plan(root);
    return writeTree({ root: generated(root), files, ownedDirs: [''] }, drift);
  };

  it('writes a Namespace and a Kustomization per overlay, then reports itself up to date', async () => {
    const root = await fixture(['alpha', 'beta']);
    const write = await runScript('gitops-flux.ts', ['--root', root]);
    expect(write.exitCode).toBe(0);
    for (const file of fluxFilesFor(['alpha', 'beta']).keys()) expect(existsSync(path.join(generated(root), file)), file).toBe(true);
    // What --check then finds; its exit 0 is the repository's --check above.
    expect(isUpToDate(plan(root).drift)).toBe(true);
  });

  it('--check fails on a new overlay, naming the missing files and the command that fixes it', async () => {
    const root = await fixture(['alpha']);
    await generate(root);
    await addOverlay(root, 'gamma');
    const check = await runScript('gitops-flux.ts', ['--root', root, '--check']);
    expect(check.exitCode).toBe(1);
    expect(check.stderr).toContain('missing:   ');
    expect(check.stderr).toContain(path.join('gamma', 'kustomization-flux.yaml'));
    expect(check.stderr).toContain(`run \`${FLUX_GENERATE_COMMAND}\``);
    expect(check.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('removes the files of an overlay that was removed', async () => {
    const root = await fixture(['alpha', 'beta']);
    await generate(root);
    await rm(path.join(root, 'overlays', 'beta'), { recursive: true });
    // What --check prints (it exits 1 on any drift, as the run above shows).
    const { drift } = plan(root);
    expect(isUpToDate(drift)).toBe(false);
    expect(describeDrift(generated(root), drift)).toContain('left over:');
    expect(await generate(root)).toContain(`removed ${path.join(generated(root), 'beta', 'namespace.yaml')}`);
    expect(existsSync(path.join(generated(root), 'beta'))).toBe(false);
    expect(readFileSync(path.join(generated(root), 'kustomization.yaml'), 'utf8')).not.toContain('beta/');
  });

  it('refuses an overlay whose kustomization sets another namespace, naming the file, the field and the fix', async () => {
    const root = await fixture(['alpha']);
    await addOverlay(root, 'beta', 'brokers');
    const out = await runScript('gitops-flux.ts', ['--root', root]);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain(path.join('overlays', 'beta', 'kustomization.yaml'));
    expect(out.stderr).toContain('field namespace');
    expect(out.stderr).toContain('set `namespace: emqx-beta`');
    expect(existsSync(generated(root))).toBe(false);
  });

  it('the generated folder renders with kustomize', async () => {
    const root = await fixture(['alpha']);
    await generate(root);
    const objects = await build(generated(root));
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Kustomization/emqx-alpha', 'Namespace/emqx-alpha']);
  });
});

describe('schemas', () => {
  it.each([
    ['gitops/argocd', ARGOCD_DIR],
    ['gitops/flux', FLUX_DIR],
  ])('%s passes kubeconform -strict with the pinned Argo CD and Flux CRD schemas', async (_, dir) => {
    const checked = await validateManifests(await findKubeconform(), await renderYaml(dir), { kubernetesVersion: DEFAULT_KUBERNETES_MINOR });
    expect(checked.length).toBeGreaterThan(0);
    expect(checked.filter((r) => r.status !== 'statusValid').map((r) => `${r.kind}/${r.name}: ${r.status} ${r.msg}`)).toEqual([]);
  });
});

describe('the repository URL and revision live in one place', () => {
  it('appear in no file under gitops/ but repository.env', () => {
    const { url } = repositorySettings();
    const files = walk(path.join(REPO_ROOT, 'gitops')).filter((f) => f !== REPOSITORY_ENV);
    expect(files.filter((f) => readFileSync(f, 'utf8').includes(url)).map((f) => path.relative(REPO_ROOT, f))).toEqual([]);
  });

  it('changing repository.env changes every place Argo CD and Flux use it', async () => {
    const dir = await tempDir();
    await cp(path.join(REPO_ROOT, 'gitops'), path.join(dir, 'gitops'), { recursive: true });
    await writeFile(path.join(dir, 'gitops', 'repository', 'repository.env'), 'url=ssh://git@git.example.org/team/emqx.git\nrevision=release\n');
    const argo = await build(path.join(dir, 'gitops', 'argocd'));
    const fx = await build(path.join(dir, 'gitops', 'flux'));
    const appset = specOf(only(argo, 'ApplicationSet', 'emqx'));
    expect(specOf(only(argo, 'AppProject', 'emqx')).sourceRepos).toEqual(['ssh://git@git.example.org/team/emqx.git']);
    expect([appset.generators[0].git.repoURL, appset.template.spec.source.repoURL]).toEqual(['ssh://git@git.example.org/team/emqx.git', 'ssh://git@git.example.org/team/emqx.git']);
    expect([appset.generators[0].git.revision, appset.template.spec.source.targetRevision]).toEqual(['release', 'release']);
    expect(specOf(only(fx, 'GitRepository', 'emqx'))).toMatchObject({ url: 'ssh://git@git.example.org/team/emqx.git', ref: { branch: 'release' } });
    const fleetArgo = await build(path.join(dir, 'gitops', 'argocd', 'fleet'));
    const fleetSet = specOf(only(fleetArgo, 'ApplicationSet', 'emqx-fleet'));
    expect([fleetSet.template.spec.source.repoURL, fleetSet.template.spec.source.targetRevision]).toEqual(['ssh://git@git.example.org/team/emqx.git', 'release']);
    for (const p of find(fleetArgo, 'AppProject')) expect(specOf(p).sourceRepos, p.metadata.name).toEqual(['ssh://git@git.example.org/team/emqx.git']);
    expect(specOf(only(fleetArgo, 'Application', 'emqx-fleet-gitops')).source).toMatchObject({ repoURL: 'ssh://git@git.example.org/team/emqx.git', targetRevision: 'release' });
    // Wave 1 follows the branch itself; a later wave its own branch, from the same URL.
    const canary = readInventory().clusters.find((c) => c.wave === 1)!;
    const clusterFlux = await build(path.join(dir, fluxEntryPath(canary.name)));
    expect(specOf(only(clusterFlux, 'GitRepository', 'emqx'))).toMatchObject({ url: 'ssh://git@git.example.org/team/emqx.git', ref: { branch: 'release' } });
    const later = readInventory().clusters.find((c) => c.wave > 1)!;
    expect(specOf(only(await build(path.join(dir, fluxEntryPath(later.name))), 'GitRepository', 'emqx'))).toMatchObject({ url: 'ssh://git@git.example.org/team/emqx.git', ref: { branch: waveBranch(later.wave) } });
  });
});

describe('ApplicationSet template expansion (the offline model of Argo CD used above)', () => {
  it('expands field references and fails on a missing key, as missingkey=error does', () => {
    expect(expandGoTemplate('emqx-{{.path.basename}}', { path: { basename: 'a' } })).toBe('emqx-a');
    expect(() => expandGoTemplate('{{.path.basname}}', { path: { basename: 'a' } })).toThrow(/no entry for key "basname"/);
    expect(() => expandGoTemplate('{{ upper .path.basename }}', { path: { basename: 'a' } })).toThrow(/more than a field reference/);
  });

  it('matches * within one path segment only', () => {
    expect(directoryPattern('overlays/*').test('overlays/single-node')).toBe(true);
    expect(directoryPattern('overlays/*').test('overlays/single-node/patches')).toBe(false);
  });
});

describe('fleet: gitops/argocd/fleet and gitops/flux/clusters/<name> deploy exactly the clusters of clusters/inventory.yaml', () => {
  const { clusters } = readInventory();
  const ARGOCD_FLEET_DIR = path.join(ARGOCD_DIR, 'fleet');
  let fleetArgo: K8sObject[];
  let fleetFlux: Map<string, K8sObject[]>;
  let clusterRenders: Map<string, K8sObject[]>;
  beforeAll(async () => {
    fleetArgo = await build(ARGOCD_FLEET_DIR);
    fleetFlux = new Map(await Promise.all(clusters.map(async (c) => [c.name, await build(path.join(REPO_ROOT, fluxEntryPath(c.name)))] as const)));
    clusterRenders = await renderRepoOverlays(clusters.map((c) => ({ name: c.name, dir: c.dir })));
  });
  const appset = () => only(fleetArgo, 'ApplicationSet', 'emqx-fleet');

  it('finds the example fleet', () => {
    expect(clusters.length).toBeGreaterThanOrEqual(15);
  });

  it('Argo CD: one Application per cluster, aimed at its server, deploying its directory into the namespace it renders into', () => {
    const apps = applicationsFromList(appset());
    expect(apps.map((a) => a.name).sort()).toEqual(clusters.map((c) => `emqx-${c.name}`).sort());
    for (const c of clusters) {
      const app = apps.find((a) => a.name === `emqx-${c.name}`)!;
      const namespaces = new Set(clusterRenders.get(c.name)!.map((o) => o.metadata.namespace).filter(Boolean));
      expect({ path: app.path, server: app.server, namespace: app.namespace, project: app.project }, c.name).toEqual({ path: `clusters/${c.name}`, server: c.server, namespace: [...namespaces][0], project: 'emqx-fleet' });
      expect(namespaces.size, `cluster ${c.name} renders into one namespace`).toBe(1);
    }
  });

  it('Argo CD: keeps the single-cluster safety settings, and no list edit can delete an Application', () => {
    const spec = specOf(appset());
    const { url, revision } = repositorySettings();
    expect(spec.goTemplate).toBe(true);
    expect(spec.goTemplateOptions).toContain('missingkey=error');
    expect(spec.template.spec.project).toBe('emqx-fleet');
    expect(spec.template.spec.source).toEqual({ repoURL: url, targetRevision: revision, path: '{{.path}}' });
    expect(spec.template.spec.syncPolicy).toEqual(specOf(only(argocd, 'ApplicationSet', 'emqx')).template.spec.syncPolicy);
    // Removing an element, or the ApplicationSet, never deletes an Application or what it deployed.
    expect(spec.syncPolicy).toEqual({ applicationsSync: 'create-update' });
    expect(spec.template.metadata.finalizers).toEqual(['resources-finalizer.argocd.argoproj.io']);
  });

  it('Argo CD: rolls out by wave: one RollingSync step per wave in order, selecting the wave label each Application carries', () => {
    const spec = specOf(appset());
    const waves = [...new Set(clusters.map((c) => c.wave))].sort((a, b) => a - b);
    expect(waves.length).toBeGreaterThan(1);
    expect(spec.strategy.type).toBe('RollingSync');
    expect(spec.strategy.rollingSync.steps).toEqual(waves.map((w) => ({ matchExpressions: [{ key: WAVE_LABEL, operator: 'In', values: [String(w)] }], maxUpdate: '100%' })));
    // Each Application is selected by exactly the step of its cluster's wave.
    for (const app of applicationsFromList(appset())) {
      const cluster = clusters.find((c) => `emqx-${c.name}` === app.name)!;
      expect((app.metadata.labels as Record<string, string>)[WAVE_LABEL], app.name).toBe(String(cluster.wave));
    }
  });

  it('Argo CD: the AppProject allows exactly the inventory\'s destinations, this repository, and the kinds of gitops/argocd/appproject.yaml', () => {
    const project = only(fleetArgo, 'AppProject', 'emqx-fleet');
    const spec = specOf(project);
    expect(spec.sourceRepos).toEqual([repositorySettings().url]);
    const key = (d: { server: string; namespace: string }) => `${d.server} ${d.namespace}`;
    expect((spec.destinations as Array<{ server: string; namespace: string }>).map(key).sort()).toEqual(clusters.map((c) => key({ server: c.server, namespace: c.namespace })).sort());
    const kinds = readWhitelists(REPO_ROOT);
    expect({ cluster: spec.clusterResourceWhitelist, namespaced: spec.namespaceResourceWhitelist }).toEqual(kinds);
    const gaps = [...clusterRenders].flatMap(([name, objects]) => kindsNotAllowed(project, objects).map((gk) => `cluster ${name}: ${gk.scope} ${gk.group || 'core'}/${gk.kind}`));
    expect(gaps, 'add these to gitops/argocd/appproject.yaml, then run the fleet generator').toEqual([]);
  });

  it('Argo CD: emqx-fleet-gitops keeps the folder in sync without pruning, in a project that may write only Argo CD objects into argocd', () => {
    const app = specOf(only(fleetArgo, 'Application', 'emqx-fleet-gitops'));
    expect(app).toMatchObject({ project: 'emqx-fleet-gitops', source: { path: 'gitops/argocd/fleet', repoURL: repositorySettings().url }, destination: { server: 'https://kubernetes.default.svc', namespace: 'argocd' } });
    expect(app.syncPolicy.automated).toEqual({ prune: false, selfHeal: true });
    const project = specOf(only(fleetArgo, 'AppProject', 'emqx-fleet-gitops'));
    expect(project.destinations).toEqual([{ server: 'https://kubernetes.default.svc', namespace: 'argocd' }]);
    expect(project.clusterResourceWhitelist).toEqual([]);
    expect((project.namespaceResourceWhitelist as Array<{ group: string }>).every((k) => k.group === 'argoproj.io')).toBe(true);
  });

  it('Flux: each cluster bootstraps from its folder: the GitRepository, its Kustomization with the shared settings, its Namespace never pruned, and itself kept in sync', () => {
    const { url, revision } = repositorySettings();
    for (const c of clusters) {
      const objects = fleetFlux.get(c.name)!;
      expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), c.name).toEqual(['GitRepository/emqx', `Kustomization/emqx-${c.name}`, 'Kustomization/emqx-fleet-gitops', `Namespace/${c.namespace}`].sort());
      // Wave 1 follows the repository's branch; wave N > 1 the branch promote moves (fleet/wave-N).
      expect(specOf(only(objects, 'GitRepository', 'emqx')), c.name).toMatchObject({ url, ref: { branch: c.wave === 1 ? revision : waveBranch(c.wave) } });
      expect(specOf(only(objects, 'Kustomization', `emqx-${c.name}`)), c.name).toMatchObject({
        path: `./clusters/${c.name}`,
        targetNamespace: c.namespace,
        prune: true,
        wait: true,
        timeout: expect.stringMatching(/^\d+m$/),
        sourceRef: { kind: 'GitRepository', name: 'emqx' },
        decryption: { provider: 'sops' },
      });
      expect(specOf(only(objects, 'Kustomization', 'emqx-fleet-gitops'))).toMatchObject({ path: `./${fluxEntryPath(c.name)}`, prune: true, wait: false });
      expect(only(objects, 'Namespace', c.namespace).metadata.annotations?.['kustomize.toolkit.fluxcd.io/prune']).toBe('disabled');
    }
  });

  it(`Flux: a folder under gitops/flux/clusters for each cluster and no other (else: \`${FLEET_GENERATE_COMMAND}\`)`, () => {
    const folders = readdirSync(path.join(FLUX_DIR, 'clusters')).sort();
    expect(folders).toEqual(clusters.map((c) => c.name).sort());
  });

  it('every cluster that keeps data keeps its claims when its StatefulSet is deleted', () => {
    for (const [name, objects] of clusterRenders) {
      for (const sts of find(objects, 'StatefulSet')) {
        if ((specOf(sts).volumeClaimTemplates ?? []).length > 0) expect(specOf(sts).persistentVolumeClaimRetentionPolicy, `cluster ${name}`).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
      }
    }
  });

  it('gitops/argocd/fleet passes kubeconform -strict', async () => {
    const checked = await validateManifests(await findKubeconform(), await renderYaml(ARGOCD_FLEET_DIR), { kubernetesVersion: DEFAULT_KUBERNETES_MINOR });
    expect(checked.filter((r) => r.status !== 'statusValid').map((r) => `${r.kind}/${r.name}: ${r.status} ${r.msg}`)).toEqual([]);
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}
