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
