// Every render hint against the message the real kustomize prints for the mistake it explains. Each
// mistake sits in a base one level below the overlay that is built, because that is how overlays
// fail: kustomize wraps the cause in "accumulation err='...must resolve to a file'", and the hint
// must follow the cause, not the wrapper.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { findKustomize, type Kustomize } from '../scripts/lib/tools/kustomize.ts';
import { explainRenderFailure, hintFor, innermostKustomizeError, RENDER_HINTS } from '../scripts/lib/model/render-hints.ts';
import { renderOverlays } from '../scripts/lib/model/render.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { useTempDirs } from './helpers/tmp.ts';

const tempDir = useTempDirs();
let kustomize: Kustomize;
beforeAll(async () => {
  kustomize = await findKustomize();
});

const CONFIGMAP = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: "1"}\n';
const jsonPatch = (op: string, at: string) => `  - target: {kind: ConfigMap, name: c}\n    patch: |-\n      - op: ${op}\n        path: ${at}\n        value: "2"\n`;

interface Case {
  /** The hint it must get (RENDER_HINTS id). */
  readonly hint: string;
  /** Files of the broken base, relative to it; `base/kustomization.yaml` is one of them. */
  readonly files: (root: string) => Record<string, string>;
  /** A fragment of the fix the user must read. */
  readonly fix: RegExp;
}

const CASES: Record<string, Case> = {
  'a tab in a resource file': {
    hint: 'yaml-tab',
    files: () => ({ 'base/kustomization.yaml': 'resources: [cm.yaml]\n', 'base/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: c\n' }),
    fix: /a tab character in YAML indentation/,
  },
  'an absolute resource directory': {
    hint: 'absolute-path',
    files: (root) => ({ 'base/kustomization.yaml': `resources: [${path.join(root, 'other')}]\n`, 'other/kustomization.yaml': 'resources: [cm.yaml]\n', 'other/cm.yaml': CONFIGMAP }),
    fix: /does not accept absolute paths/,
  },
  'a resource file that does not exist': {
    hint: 'missing-file',
    files: () => ({ 'base/kustomization.yaml': 'resources: [nope.yaml]\n' }),
    fix: /lists a file or directory that does not exist/,
  },
  'a resource directory that does not exist': {
    hint: 'missing-file',
    files: () => ({ 'base/kustomization.yaml': 'resources: [../nope]\n' }),
    fix: /lists a file or directory that does not exist/,
  },
  'a component that does not exist': {
    hint: 'missing-file',
    files: () => ({ 'base/kustomization.yaml': 'components: [../nope]\n' }),
    fix: /lists a file or directory that does not exist/,
  },
  'a patch file that does not exist': {
    hint: 'missing-file',
    files: () => ({ 'base/kustomization.yaml': 'resources: [cm.yaml]\npatches: [{path: nope.yaml}]\n', 'base/cm.yaml': CONFIGMAP }),
    fix: /lists a file or directory that does not exist/,
  },
  'a resource directory without a kustomization': {
    hint: 'no-kustomization',
    files: () => ({ 'base/kustomization.yaml': 'resources: [sub]\n', 'base/sub/README': 'no kustomization here\n' }),
    fix: /holds no kustomization\.yaml/,
  },
  'two resources with one id': {
    hint: 'duplicate-resource',
    files: () => ({ 'base/kustomization.yaml': 'resources: [cm.yaml, cm2.yaml]\n', 'base/cm.yaml': CONFIGMAP, 'base/cm2.yaml': CONFIGMAP }),
    fix: /two resources with the same kind, name and namespace/,
  },
  'a strategic-merge patch without a target': {
    hint: 'patch-target',
    files: () => ({ 'base/kustomization.yaml': 'resources: [cm.yaml]\npatches: [{path: p.yaml}]\n', 'base/cm.yaml': CONFIGMAP, 'base/p.yaml': CONFIGMAP.replace('name: c', 'name: other') }),
    fix: /targets an object that the build does not contain/,
  },
  'a replacement whose source is not there': {
    hint: 'patch-target',
    files: () => ({
      'base/kustomization.yaml': 'resources: [cm.yaml]\nreplacements:\n  - source: {kind: Secret, name: s, fieldPath: data.x}\n    targets: [{select: {kind: ConfigMap}, fieldPaths: [data.a]}]\n',
      'base/cm.yaml': CONFIGMAP,
    }),
    fix: /targets an object that the build does not contain/,
  },
  'a JSON patch adding to a list that is not there': {
    hint: 'json-patch-path',
    files: () => ({ 'base/kustomization.yaml': `resources: [cm.yaml]\npatches:\n${jsonPatch('add', '/spec/template/spec/containers/0/env/-')}`, 'base/cm.yaml': CONFIGMAP }),
    fix: /JSON patch \(add at \/spec\/template\/spec\/containers\/0\/env\/-\) names a path the target object does not have/,
  },
  'a JSON patch removing a key that is not there': {
    hint: 'json-patch-path',
    files: () => ({ 'base/kustomization.yaml': `resources: [cm.yaml]\npatches:\n${jsonPatch('remove', '/data/zz')}`, 'base/cm.yaml': CONFIGMAP }),
    fix: /JSON patch \(remove at \/data\/zz\)/,
  },
  'a JSON patch whose test fails': {
    hint: 'json-patch-path',
    files: () => ({ 'base/kustomization.yaml': `resources: [cm.yaml]\npatches:\n${jsonPatch('test', '/data/a')}`, 'base/cm.yaml': CONFIGMAP }),
    fix: /JSON patch test of \/data\/a failed/,
  },
  'a JSON patch failing inside a component': {
    hint: 'json-patch-path',
    files: () => ({
      'base/kustomization.yaml': 'resources: [cm.yaml]\ncomponents: [../comp]\n',
      'base/cm.yaml': CONFIGMAP,
      'comp/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n${jsonPatch('add', '/spec/x/-')}`,
    }),
    fix: /JSON patch \(add at \/spec\/x\/-\)/,
  },
  'a component above deployment-ip\'s conversion changing a field a Deployment has not': {
    hint: 'deployment-statefulset-field',
    files: (root) => {
      const fromBase = (to: string) => path.relative(path.join(root, 'base'), path.join(REPO_ROOT, to));
      return {
        'base/kustomization.yaml': `resources: [${fromBase('base')}]\ncomponents: [../ordered, ${fromBase('overlays/deployment-ip/statefulset-to-deployment')}]\n`,
        'ordered/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - patch: "{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: emqx}, spec: {podManagementPolicy: OrderedReady}}"\n',
      };
    },
    fix: /becomes a Deployment, which has no spec\.podManagementPolicy: .*Remove the change; if the pods need it, run a StatefulSet overlay/,
  },
  'a configMapGenerator repeating a key': {
    hint: 'generator-repeated-key',
    files: () => ({ 'base/kustomization.yaml': 'configMapGenerator:\n  - name: g\n    literals: [A=1, A=2]\n' }),
    fix: /the generator g lists the key A twice.*behavior: merge/,
  },
  'a generator repeating a key across an env file and a literal': {
    hint: 'generator-repeated-key',
    files: () => ({ 'base/kustomization.yaml': 'configMapGenerator:\n  - name: g\n    envs: [a.env]\n    literals: [A=2]\n', 'base/a.env': 'A=1\n' }),
    fix: /the generator g lists the key A twice/,
  },
  'a patch file outside the kustomization root': {
    hint: 'security',
    files: () => ({ 'base/kustomization.yaml': 'resources: [cm.yaml]\npatches: [{path: ../other/cm.yaml}]\n', 'base/cm.yaml': CONFIGMAP, 'other/cm.yaml': CONFIGMAP }),
    fix: /only reads files inside the kustomization root/,
  },
  'a YAML syntax error in a resource': {
    hint: 'yaml-syntax',
    files: () => ({ 'base/kustomization.yaml': 'resources: [cm.yaml]\n', 'base/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: b: c\n' }),
    fix: /a YAML syntax error in the file named above/,
  },
  'a YAML syntax error in a kustomization.yaml': {
    hint: 'yaml-syntax',
    files: () => ({ 'base/kustomization.yaml': 'resources: [cm.yaml\n  foo: bar\n' }),
    fix: /a YAML syntax error in .*base\/kustomization\.yaml/,
  },
};

/** Writes the case under a temp dir, with `overlay/` on top of `base/`; returns the overlay dir. */
async function writeCase(c: Case): Promise<string> {
  const root = await tempDir();
  const files = { ...c.files(root), 'overlay/kustomization.yaml': 'resources: [../base]\n' };
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
  return path.join(root, 'overlay');
}

describe('render hints, each against the kustomize message it is for', () => {
  it('covers every hint', () => {
    expect(new Set(Object.values(CASES).map((c) => c.hint))).toEqual(new Set(RENDER_HINTS.map((h) => h.id)));
  });

  it.each(Object.entries(CASES))('%s', async (_name, c) => {
    const dir = await writeCase(c);
    const overlay = { name: 'overlay', dir };
    // As build renders (plain) and as validate renders (through a wrapper that adds one more level).
    for (const origins of [false, true]) {
      const { failures } = await renderOverlays(kustomize, [overlay], { origins });
      expect(failures, `origins: ${origins}`).toHaveLength(1);
      const message = failures[0]!.message;
      const fix = /\n {2}fix: (.*)$/.exec(message)?.[1];
      expect(fix, message).toMatch(c.fix);
      // The wrapper's words are not the diagnosis unless the file really is missing.
      if (c.hint !== 'missing-file') expect(fix, message).not.toMatch(/does not exist/);
    }
  });
});

describe('patching the StatefulSet on top of deployment-ip', () => {
  // statefulset-to-deployment changes the StatefulSet's kind, and kustomize keeps the object's
  // identity through it (as through a namePrefix): a patch that names the StatefulSet lands on the
  // Deployment, which stays a Deployment.
  it.each([
    ['a strategic-merge patch', 'patches:\n  - path: p.yaml\n'],
    ['a component', `components: [COMPONENT]\n`],
  ])('%s: reaches the Deployment', async (name, extra) => {
    const dir = path.join(await tempDir(), 'edge');
    await mkdir(dir);
    const base = path.relative(dir, path.join(REPO_ROOT, 'overlays', 'deployment-ip'));
    const component = path.relative(dir, path.join(REPO_ROOT, 'components', 'zone-spread'));
    await writeFile(path.join(dir, 'kustomization.yaml'), `resources: [${base}]\n${extra.replace('COMPONENT', component)}`);
    await writeFile(path.join(dir, 'p.yaml'), 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: emqx}\nspec: {replicas: 5}\n');
    const { rendered, failures } = await renderOverlays(kustomize, [{ name: 'edge', dir }]);
    expect(failures).toEqual([]);
    const workloads = parseAllDocuments(rendered[0]!.yaml)
      .map((d) => d.toJS() as { kind: string; spec: { replicas?: number; template: { spec: { topologySpreadConstraints?: { topologyKey: string }[] } } } })
      .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
    expect(workloads.map((w) => w.kind)).toEqual(['Deployment']);
    if (name === 'a strategic-merge patch') expect(workloads[0]!.spec.replicas).toBe(5);
    else expect(workloads[0]!.spec.template.spec.topologySpreadConstraints?.map((c) => c.topologyKey)).toContain('topology.kubernetes.io/zone');
  });
});

describe('innermostKustomizeError', () => {
  it('takes the directory part for a directory, the file part for a file', () => {
    const dir =
      "accumulating resources: accumulation err='accumulating resources from '../base': '/r/base' must resolve to a file': recursed accumulation of path '/r/base': configmap g illegally repeats the key `A`";
    expect(innermostKustomizeError(dir)).toBe('configmap g illegally repeats the key `A`');
    const file =
      "accumulating resources: accumulation err='merging resources from 'cm2.yaml': may not add resource with an already registered id: ConfigMap.v1.[noGrp]/c.[noNs]': must build at directory: '/r/base/cm2.yaml': file is not directory";
    expect(innermostKustomizeError(file)).toBe('merging resources from \'cm2.yaml\': may not add resource with an already registered id: ConfigMap.v1.[noGrp]/c.[noNs]');
  });

  it('leaves an unwrapped message as it is, and finds no hint where none fits', () => {
    expect(innermostKustomizeError('add operation does not apply: doc is missing path: "/a/-": missing value')).toBe('add operation does not apply: doc is missing path: "/a/-": missing value');
    expect(hintFor('something kustomize has never said', 'x')).toBeUndefined();
  });

  it('names the overlay and quotes kustomize in full, then the fix', () => {
    const text = explainRenderFailure({ name: 'edge', dir: '/tmp/edge' }, 'testing value /data/a failed: test failed');
    expect(text).toBe('overlay edge (/tmp/edge): kustomize build failed:\n    testing value /data/a failed: test failed\n  fix: ' + hintFor('testing value /data/a failed: test failed', 'the file named above')!.text);
  });
});
