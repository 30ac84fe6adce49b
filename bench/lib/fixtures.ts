// Generated overlays for benchmarks: N small overlays in a temporary directory, each building on
// one of the repository's real overlays (cycled), so that every render does the real work.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listOverlays, type Overlay } from '../../scripts/lib/overlays.ts';

export interface GeneratedOverlays {
  readonly root: string;
  readonly overlays: Overlay[];
  cleanup(): Promise<void>;
}

export async function generateOverlays(count: number): Promise<GeneratedOverlays> {
  const real = listOverlays();
  const root = await mkdtemp(path.join(os.tmpdir(), 'emqx-gitops-bench-'));
  const overlays: Overlay[] = [];
  for (let i = 0; i < count; i++) {
    const source = real[i % real.length]!;
    const name = `${source.name}-${String(i).padStart(3, '0')}`;
    const dir = path.join(root, name);
    await mkdir(dir);
    await writeFile(
      path.join(dir, 'kustomization.yaml'),
      `---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: emqx-${name}\nresources:\n  - ${path.relative(dir, source.dir)}\n`,
    );
    overlays.push({ name, dir });
  }
  return { root, overlays, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Wall-clock milliseconds of `fn`, best of `runs` (the least disturbed by other processes). */
export async function bestOf(runs: number, fn: () => Promise<unknown>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
