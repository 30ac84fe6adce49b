// "Provably safe to skip": an overlay is reported unchanged without rendering only when nothing it
// can read changed. These tests pin what counts as an input.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findOverlayInputs, inputsTouched } from '../scripts/lib/diff/inputs.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'diff-inputs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), text);
}

write('base/kustomization.yaml', 'resources: [cm.yaml]\nconfigMapGenerator:\n  - name: env\n    envs: [emqx.env]\n');
write('base/cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
write('base/emqx.env', 'A=1\n');
write('components/extra/kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - path: patch.yaml\n');
write('components/extra/patch.yaml', '{}\n');
write('overlays/a/kustomization.yaml', 'resources: [../../base]\ncomponents: [../../components/extra]\n');
write('overlays/b/kustomization.yaml', 'resources:\n  - ../../base\npatches:\n  - path: p.yaml\nconfigMapGenerator:\n  - name: f\n    files: [key=../../shared/file.txt]\n');
write('overlays/b/p.yaml', '{}\n');
write('shared/file.txt', 'x\n');
write('overlays/remote/kustomization.yaml', 'resources: [https://github.com/example/repo//base?ref=v1]\n');
write('overlays/helm/kustomization.yaml', 'helmCharts:\n  - name: emqx\n');
write('overlays/ignored/kustomization.yaml', 'secretGenerator:\n  - name: s\n    envs: [secret.env]\n');
write('overlays/ignored/secret.env', 'K=v\n');
write('overlays/linked/kustomization.yaml', 'resources: [cm.yaml]\n');
symlinkSync(path.join(root, 'base/cm.yaml'), path.join(root, 'overlays/linked/cm.yaml'));

const inputs = (name: string, ignored: string[] = []) => findOverlayInputs(root, path.join(root, 'overlays', name), (rel) => ignored.includes(rel));

describe('overlay inputs', () => {
  it('follows resources and components to every kustomization root, and files outside them', () => {
    expect(inputs('a')).toEqual({ kind: 'paths', dirs: ['base', 'components/extra', 'overlays/a'], files: ['base/cm.yaml', 'base/emqx.env', 'components/extra/patch.yaml'] });
    expect(inputs('b')).toMatchObject({ dirs: ['base', 'overlays/b'], files: expect.arrayContaining(['shared/file.txt', 'overlays/b/p.yaml']) });
  });

  it('an overlay is touched by a change to anything it reads, and only then', () => {
    const a = inputs('a');
    expect(inputsTouched(a, ['base/emqx.env'])).toBe(true);
    expect(inputsTouched(a, ['components/extra/new-file.yaml'])).toBe(true);
    expect(inputsTouched(a, ['overlays/a/kustomization.yaml'])).toBe(true);
    expect(inputsTouched(a, ['overlays/b/p.yaml', 'shared/file.txt', 'README.md', 'overlays/ab/x.yaml'])).toBe(false);
    expect(inputsTouched(inputs('b'), ['shared/file.txt'])).toBe(true);
  });

  it('always renders what it cannot follow: remote bases, Helm charts, symlinks, git-ignored files', () => {
    expect(inputs('remote')).toMatchObject({ kind: 'always-render', reason: expect.stringContaining('remote') });
    expect(inputs('helm')).toMatchObject({ kind: 'always-render', reason: expect.stringContaining('Helm') });
    expect(inputs('linked')).toMatchObject({ kind: 'always-render', reason: expect.stringContaining('symbolic link') });
    expect(inputs('ignored', ['overlays/ignored/secret.env'])).toMatchObject({ kind: 'always-render', reason: expect.stringContaining('ignored by git') });
    expect(inputsTouched(inputs('remote'), [])).toBe(true);
  });
});
