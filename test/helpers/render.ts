// Renders the repository's overlays once per test file with the real kustomize.
import { findKustomize } from '../../scripts/lib/tools/kustomize.ts';
import { listOverlays, type Overlay } from '../../scripts/lib/model/overlays.ts';
import { renderOverlays } from '../../scripts/lib/model/render.ts';
import { parseObjects } from '../../scripts/lib/model/render-stream.ts';
import type { K8sObject } from '../../scripts/lib/model/object.ts';

export { parseObjects };

/** Every overlay under overlays/, rendered, by name. Throws with kustomize's message if one fails. */
export async function renderRepoOverlays(overlays: Overlay[] = listOverlays()): Promise<Map<string, K8sObject[]>> {
  const kustomize = await findKustomize();
  const { rendered, failures } = await renderOverlays(kustomize, overlays);
  if (failures.length > 0) throw new Error(failures.map((f) => f.message).join('\n'));
  return new Map(rendered.map((r) => [r.overlay.name, parseObjects(r.yaml)]));
}

export function find(objects: readonly K8sObject[], kind: string, name?: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function only(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}
