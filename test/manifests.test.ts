// House rules for the manifests as written (not as rendered): the article's mistakes stay out.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DEFAULT_KUBERNETES_MINOR } from '../scripts/lib/setup/tool-versions.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';

const MANIFEST_ROOTS = ['base', 'components', 'overlays', 'gitops'];

function yamlFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(entry) ? [full] : [];
  });
}

const files = MANIFEST_ROOTS.flatMap((root) => yamlFiles(path.join(REPO_ROOT, root)));
const rel = (f: string) => path.relative(REPO_ROOT, f);
const kustomizations = files.filter((f) => path.basename(f) === 'kustomization.yaml');

describe('manifest sources', () => {
  it('exist', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map(rel))('%s: spaces only, starts with ---, parses', (file) => {
    const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
    expect(text.includes('\t'), 'a tab character').toBe(false);
    expect(text.startsWith('---\n'), 'first line must be ---').toBe(true);
    for (const doc of parseAllDocuments(text)) expect(doc.errors.map((e) => e.message)).toEqual([]);
  });

  it('never use the article’s outdated APIs, keys, port or annotation', () => {
    const banned: [RegExp, string][] = [
      [/rbac\.authorization\.kubernetes\.io/, 'the RBAC group is rbac.authorization.k8s.io/v1'],
      [/EMQX_CLUSTER__DISCOVERY\s*[:=]|EMQX_CLUSTER__DISCOVERY$/m, '4.x key; 5.x is EMQX_CLUSTER__DISCOVERY_STRATEGY'],
      [/EMQX_CLUSTER__K8S__APP_NAME/, '4.x key; 5.x builds names from EMQX_NAME'],
      [/\b8081\b/, 'the 4.x management port; 5.x serves the API on 18083'],
      [/volume\.alpha\.kubernetes\.io\/storage-class/, 'use spec.storageClassName'],
      [/mountPath:\s*\/opt\/emqx\/data\/mnesia/, 'mount the whole /opt/emqx/data'],
      [/emqxsecretcookie|emqx50elixir/, 'a public default cookie'],
      [/image:\s*emqx\/emqx:latest|newTag:\s*"?latest/, 'never deploy latest'],
    ];
    for (const file of [...files, path.join(REPO_ROOT, 'base', 'emqx.env')]) {
      const text = readFileSync(file, 'utf8');
      for (const [pattern, why] of banned) expect(pattern.test(text), `${rel(file)}: ${pattern} (${why})`).toBe(false);
    }
  });

  it('point their editor schemas (`# yaml-language-server: $schema=`) at the newest Kubernetes minor the kit supports', () => {
    // An editor checks against these, not against what `npm run validate` uses: a schema older than
    // the clusters would flag fields they accept, or accept fields they have removed.
    const pinned = files.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\$schema=\S*kubernetes-json-schema\/\S*?\/v(\d+\.\d+)\.\d+-standalone-strict\//g)].map((m) => ({ file: rel(file), minor: m[1] })),
    );
    expect(pinned.length).toBeGreaterThan(5);
    for (const { file, minor } of pinned) expect(minor, file).toBe(DEFAULT_KUBERNETES_MINOR);
  });

  it.each(kustomizations.map(rel))('%s uses no deprecated kustomize fields', (file) => {
    const kustomization = parse(readFileSync(path.join(REPO_ROOT, file), 'utf8')) as Record<string, unknown>;
    for (const field of ['commonLabels', 'bases', 'patchesStrategicMerge', 'patchesJson6902', 'vars']) {
      expect(kustomization, `${file}: ${field}`).not.toHaveProperty(field);
    }
  });

  it('pins the EMQX image in exactly one kustomization, to 5.8.9', () => {
    const withImages = kustomizations.filter((f) => (parse(readFileSync(f, 'utf8')) as { images?: unknown }).images !== undefined);
    expect(withImages.map(rel)).toEqual(['base/kustomization.yaml']);
    const base = parse(readFileSync(withImages[0]!, 'utf8')) as { images: { name: string; newTag: string }[] };
    expect(base.images).toEqual([{ name: 'emqx/emqx', newTag: '5.8.9' }]);
  });

  it.each(kustomizations.map(rel))('%s: each listed resource file exists and holds one resource', (file) => {
    const dir = path.dirname(path.join(REPO_ROOT, file));
    const { resources = [] } = parse(readFileSync(path.join(REPO_ROOT, file), 'utf8')) as { resources?: string[] };
    for (const resource of resources.filter((r) => /\.ya?ml$/.test(r))) {
      const docs = parseAllDocuments(readFileSync(path.join(dir, resource), 'utf8')).filter((d) => d.toJS() != null);
      expect(docs, `${resource}: one resource per file`).toHaveLength(1);
    }
  });

  it('lists every base resource file in base/kustomization.yaml', () => {
    const { resources } = parse(readFileSync(path.join(REPO_ROOT, 'base', 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    const onDisk = readdirSync(path.join(REPO_ROOT, 'base')).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect([...resources].sort()).toEqual(onDisk.sort());
  });
});
