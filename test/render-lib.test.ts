// The small pure pieces under the render command.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../scripts/lib/util/atomic-write.ts';
import { mapConcurrent } from '../scripts/lib/util/concurrency.ts';
import { chmod, writeFile } from 'node:fs/promises';
import { buildArgv, cleanKustomizeMessage, describeKustomize, findKustomize, kustomizeBuild, parseKubectlKustomizeVersion, parseKustomizeVersion } from '../scripts/lib/tools/kustomize.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { explainRenderFailure } from '../scripts/lib/model/render-hints.ts';
import { countObjects } from '../scripts/lib/model/render-stream.ts';
import { KUSTOMIZE } from '../scripts/lib/setup/tool-versions.ts';
import { useTempDirs } from './helpers/tmp.ts';

const tempDir = useTempDirs();
const overlay = { name: 'edge', dir: '/somewhere/edge' };

describe('explainRenderFailure', () => {
  it('names the overlay, quotes kustomize and adds the fix for a tab', () => {
    const message = explainRenderFailure(overlay, "accumulating resources: MalformedYAMLError: yaml: line 4: found character that cannot start any token in File: cm.yaml");
    expect(message).toMatch(/^overlay edge \(\/somewhere\/edge\): kustomize build failed:/);
    expect(message).toContain('    accumulating resources: MalformedYAMLError');
    expect(message).toMatch(/fix: a tab character in YAML indentation/);
  });

  it('explains a missing file and a patch without a target', () => {
    expect(explainRenderFailure(overlay, "accumulating resources: open /x/service.yaml: no such file or directory")).toMatch(/fix: kustomization.yaml lists a file or directory that does not exist/);
    expect(explainRenderFailure(overlay, 'no matches for Id StatefulSet.v1.apps/emqx')).toMatch(/fix: a patch or replacement targets an object/);
  });

  it('adds no fix line where it knows none', () => {
    expect(explainRenderFailure(overlay, 'something new')).not.toContain('fix:');
  });
});

describe('kustomize output parsing', () => {
  it('reads both version formats', () => {
    expect(parseKustomizeVersion('v5.8.1\n')).toBe('v5.8.1');
    expect(parseKustomizeVersion('{Version:kustomize/v4.5.7 GitCommit:56d82a8 BuildDate:2022-08-02}')).toBe('v4.5.7');
    expect(parseKubectlKustomizeVersion('{"clientVersion":{},"kustomizeVersion":"v5.4.2"}')).toBe('v5.4.2');
    expect(parseKubectlKustomizeVersion('not json')).toBeUndefined();
  });

  it('keeps only the error from stderr', () => {
    expect(cleanKustomizeMessage('Usage: ...\nError: accumulating resources: boom\n')).toBe('accumulating resources: boom');
  });

  it('warns only when the kustomize in use is not the pinned one', () => {
    expect(describeKustomize({ build: ['/repo/.tools/bin/kustomize', 'build'], version: KUSTOMIZE.version, source: 'pinned' })).toBeUndefined();
    expect(describeKustomize({ build: ['/usr/bin/kubectl', 'kustomize'], version: 'v5.4.2', source: 'kubectl' })).toMatch(/kubectl kustomize, version v5\.4\.2; the pinned version is v5\.8\.1/);
  });
});

describe('the kustomize argv', () => {
  it('is `kustomize build DIR`, but `kubectl kustomize DIR` (no build subcommand)', () => {
    expect(buildArgv({ build: ['/bin/kustomize', 'build'], version: 'v5.8.1', source: 'pinned' }, 'overlays/x')).toEqual(['/bin/kustomize', 'build', 'overlays/x']);
    expect(buildArgv({ build: ['/bin/kubectl', 'kustomize'], version: 'v5.8.1', source: 'kubectl' }, 'overlays/x', ['--enable-helm'])).toEqual(['/bin/kubectl', 'kustomize', '--enable-helm', 'overlays/x']);
  });

  it('renders through a kubectl that only understands `kubectl kustomize DIR`', async () => {
    const dir = await tempDir();
    const real = (await findKustomize()).build[0]!;
    // A stand-in kubectl: exactly `kustomize DIR`, anything else fails.
    const kubectl = path.join(dir, 'kubectl');
    await writeFile(kubectl, `#!/bin/sh\n[ "$1" = kustomize ] && [ $# -eq 2 ] || { echo "unexpected: $*" >&2; exit 2; }\nexec "${real}" build "$2"\n`);
    await chmod(kubectl, 0o755);
    const result = await kustomizeBuild({ build: [kubectl, 'kustomize'], version: 'v5.8.1', source: 'kubectl' }, path.join(REPO_ROOT, 'overlays', 'single-node'));
    expect(result.ok).toBe(true);
    expect(result.ok && result.yaml).toContain('kind: StatefulSet');
  });
});

describe('mapConcurrent', () => {
  it('keeps input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const result = await mapConcurrent([30, 10, 20, 5, 15], 2, async (ms, i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return i;
    });
    expect(result).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temporary file behind', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'nested', 'out.yaml');
    await writeFileAtomic(file, 'one\n');
    await writeFileAtomic(file, 'two\n');
    expect(await readFile(file, 'utf8')).toBe('two\n');
    expect(await readdir(path.dirname(file))).toEqual(['out.yaml']);
  });
});

describe('countObjects', () => {
  it('counts documents, not separators', () => {
    expect(countObjects('---\na: 1\n---\nb: 2\n---\n')).toBe(2);
  });
});
