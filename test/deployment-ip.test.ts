// Customising overlays/deployment-ip the way a user does: a strategic-merge patch and a JSON patch
// on `kind: Deployment`, in the overlay itself and in an overlay built on top of it, change the
// rendered Deployment (they used to be overwritten by the copy of the StatefulSet's template, or
// fail). Real kustomize, fixture trees in temp dirs.
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDocument, stringify } from 'yaml';
import { findKustomize, kustomizeBuild, type Kustomize } from '../scripts/lib/tools/kustomize.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';
import { effectiveEnv, emqxContainer, workloadOf } from './helpers/pod.ts';
import { find, parseObjects } from './helpers/render.ts';
import { RULES } from '../scripts/lib/validate/rules/index.ts';
import { validateOverlays } from '../scripts/lib/validate/run.ts';
import { useTempDirs } from './helpers/tmp.ts';

const tempDir = useTempDirs();
let kustomize: Kustomize;

beforeAll(async () => {
  kustomize = await findKustomize();
});

const MEMORY_PATCH = `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: emqx
spec:
  template:
    spec:
      containers:
        - name: emqx
          resources:
            limits:
              memory: 3Gi
`;

const ENV_PATCH = `---
- op: add
  path: /spec/template/spec/containers/0/env/-
  value:
    name: EXTRA_HOST
    value: $(EMQX_HOST)
`;

/** The patches a user adds to a kustomization: files under patches/, listed under `patches:`. */
async function addPatches(dir: string, kustomization: Record<string, unknown>): Promise<void> {
  await mkdir(path.join(dir, 'patches'), { recursive: true });
  await writeFile(path.join(dir, 'patches', 'deployment-memory.yaml'), MEMORY_PATCH);
  await writeFile(path.join(dir, 'patches', 'deployment-extra-env.yaml'), ENV_PATCH);
  const patches = [...((kustomization.patches as unknown[]) ?? []), { path: 'patches/deployment-memory.yaml' }, { path: 'patches/deployment-extra-env.yaml', target: { kind: 'Deployment', name: 'emqx' } }];
  await writeFile(path.join(dir, 'kustomization.yaml'), stringify({ ...kustomization, patches }));
}

async function build(dir: string): Promise<K8sObject[]> {
  const result = await kustomizeBuild(kustomize, dir);
  if (!result.ok) throw new Error(result.message);
  return parseObjects(result.yaml);
}

/** A copy of overlays/deployment-ip (its component included) whose `../../base` points back at the repository. */
async function copyOfOverlay(): Promise<string> {
  const dir = path.join(await tempDir(), 'overlays', 'deployment-ip');
  await cp(path.join(REPO_ROOT, 'overlays', 'deployment-ip'), dir, { recursive: true });
  const doc = parseDocument(await readFile(path.join(dir, 'kustomization.yaml'), 'utf8'));
  const kustomization = doc.toJS() as Record<string, unknown>;
  kustomization.resources = (kustomization.resources as string[]).map((r) => (r.startsWith('..') ? path.relative(dir, path.join(REPO_ROOT, 'overlays', 'deployment-ip', r)) : r));
  await writeFile(path.join(dir, 'kustomization.yaml'), stringify(kustomization));
  return dir;
}

function expectPatched(objects: readonly K8sObject[]): void {
  expect(find(objects, 'StatefulSet')).toEqual([]);
  expect(find(objects, 'Deployment')).toHaveLength(1);
  const container = emqxContainer(objects);
  // The strategic merge changed the one field and kept the rest of the base's resources.
  expect(container.resources).toMatchObject({ limits: { memory: '3Gi' }, requests: { cpu: '250m', memory: '512Mi' } });
  // The JSON patch appended to the env the base template brought, after EMQX_HOST, so it expands.
  const env = container.env as { name: string; value?: string }[];
  expect(env.at(-1)).toEqual({ name: 'EXTRA_HOST', value: '$(EMQX_HOST)' });
  expect(env.find((e) => e.name === 'EMQX_HOST')?.value).toBe('$(POD_IP)');
  const resolved = effectiveEnv(objects, { name: 'emqx-5f7-abcde', namespace: 'emqx-deployment-ip', ip: '10.1.2.3' });
  expect(resolved.EXTRA_HOST).toBe('10.1.2.3');
  expect(resolved.EMQX_NODE__NAME).toBe('emqx@10.1.2.3');
}

describe('patching the Deployment of deployment-ip', () => {
  it('in the overlay itself: a strategic merge sets the memory limit, a JSON patch adds a variable', async () => {
    const dir = await copyOfOverlay();
    const kustomization = parseDocument(await readFile(path.join(dir, 'kustomization.yaml'), 'utf8')).toJS() as Record<string, unknown>;
    await addPatches(dir, kustomization);
    const objects = await build(dir);
    expectPatched(objects);
    expect(workloadOf(objects).metadata.namespace).toBe('emqx-deployment-ip');
  });

  it('in an overlay built on it (resources: [../deployment-ip])', async () => {
    const dir = path.join(await tempDir(), 'overlays', 'edge');
    await mkdir(dir, { recursive: true });
    const base = path.relative(dir, path.join(REPO_ROOT, 'overlays', 'deployment-ip'));
    await addPatches(dir, { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [base] });
    expectPatched(await build(dir));
  });

  it('leaves the repository overlay as it was: the 1Gi limit of the base template', async () => {
    const objects = await build(path.join(REPO_ROOT, 'overlays', 'deployment-ip'));
    expect(emqxContainer(objects).resources).toMatchObject({ limits: { memory: '1Gi' } });
    expect(workloadOf(objects).kind).toBe('Deployment');
  });
});

/** Lists `component` (a directory) in the copy's `components:` above statefulset-to-deployment, where the overlay says optional components go. */
async function listAboveConversion(dir: string, component: string): Promise<void> {
  const file = path.join(dir, 'kustomization.yaml');
  const kustomization = parseDocument(await readFile(file, 'utf8')).toJS() as { components: string[] };
  kustomization.components = [path.relative(dir, component), ...kustomization.components];
  await writeFile(file, stringify(kustomization));
}

describe('the StatefulSet deployment-ip converts', () => {
  it('passes on every annotation, label and shared spec field a component puts on it', async () => {
    const dir = await copyOfOverlay();
    const component = path.join(path.dirname(path.dirname(dir)), 'components', 'gitops-options');
    await mkdir(component, { recursive: true });
    // What a user's component sets for Argo CD and Flux, and the spec fields a Deployment shares.
    await writeFile(
      path.join(component, 'kustomization.yaml'),
      stringify({
        apiVersion: 'kustomize.config.k8s.io/v1alpha1',
        kind: 'Component',
        patches: [
          {
            target: { kind: 'StatefulSet', name: 'emqx' },
            patch: stringify({
              apiVersion: 'apps/v1',
              kind: 'StatefulSet',
              metadata: { name: 'emqx', annotations: { 'argocd.argoproj.io/sync-options': 'Replace=true', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' }, labels: { team: 'messaging' } },
              spec: { minReadySeconds: 15, revisionHistoryLimit: 3 },
            }),
          },
        ],
      }),
    );
    await listAboveConversion(dir, component);
    const objects = await build(dir);
    expect(find(objects, 'StatefulSet')).toEqual([]);
    const deployment = workloadOf(objects);
    expect(deployment.kind).toBe('Deployment');
    expect(deployment.metadata.annotations).toMatchObject({ 'argocd.argoproj.io/sync-options': 'Replace=true', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' });
    expect(deployment.metadata.annotations?.['kube-score/ignore']).toContain('container-resources');
    expect(deployment.metadata.labels).toMatchObject({ team: 'messaging', 'app.kubernetes.io/name': 'emqx' });
    expect(deployment.spec).toMatchObject({ minReadySeconds: 15, revisionHistoryLimit: 3, replicas: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
    // What only a StatefulSet has, and the base sets, is gone.
    for (const field of ['serviceName', 'podManagementPolicy', 'updateStrategy']) expect(deployment.spec, field).not.toHaveProperty(field);
  });

  it('keeps volumeClaimTemplates (components/persistence above it), and validate names the overlay, the Deployment, the field and the fix', async () => {
    const dir = await copyOfOverlay();
    await listAboveConversion(dir, path.join(REPO_ROOT, 'components', 'persistence'));
    expect(workloadOf(await build(dir)).spec).toHaveProperty('volumeClaimTemplates');
    const [report] = await validateOverlays(kustomize, [{ name: 'deployment-ip', dir }], { rules: RULES });
    const findings = report!.findings.filter((f) => f.rule === 'emqx/deployment-statefulset-field');
    expect(findings.map((f) => [f.overlay, f.kind, f.name, f.path])).toEqual([
      ['deployment-ip', 'Deployment', 'emqx', 'spec.persistentVolumeClaimRetentionPolicy'],
      ['deployment-ip', 'Deployment', 'emqx', 'spec.volumeClaimTemplates'],
    ]);
    const claims = findings.find((f) => f.path === 'spec.volumeClaimTemplates')!;
    expect(claims.severity).toBe('error');
    expect(claims.message).toMatch(/Deployment emqx has spec\.volumeClaimTemplates, which only a StatefulSet has.* Fix: take components\/persistence .* out of this overlay/);
    // Pointed at the line that adds the claims, not at the base.
    expect(claims.file).toBe('components/persistence/patches/statefulset-persistence.yaml');
  });
});
