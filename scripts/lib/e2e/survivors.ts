// What an overlay's removal leaves behind, whatever the engine: docs/gitops.md promises that the
// namespace, the `emqx-secrets` Secret and the claims survive while everything rendered is pruned.
import { claimsIn, exists, type ClaimInfo } from './cluster.ts';
import type { E2eContext } from './context.ts';

export async function survivorsIn(ctx: E2eContext, namespace: string, claimsBefore: readonly ClaimInfo[]): Promise<string[]> {
  const kept: string[] = [];
  if (await exists(ctx.plane, `/api/v1/namespaces/${namespace}`)) kept.push(`Namespace ${namespace}`);
  if (await exists(ctx.plane, `/api/v1/namespaces/${namespace}/secrets/emqx-secrets`)) kept.push(`Secret ${namespace}/emqx-secrets`);
  for (const c of await claimsIn(ctx.plane, namespace)) if (claimsBefore.some((b) => b.uid === c.uid)) kept.push(`PersistentVolumeClaim ${namespace}/${c.name}`);
  return kept;
}

/** The number of pods left in `namespace`. */
export async function podCount(ctx: E2eContext, namespace: string): Promise<number> {
  const pods = await ctx.plane.api(`/api/v1/namespaces/${namespace}/pods`);
  return pods.status === 200 ? (JSON.parse(pods.body) as { items: unknown[] }).items.length : 0;
}

/** The overlay a removal stage takes away: one with claims, so that "the claims survive" is tested. */
export function overlayToRemove(overlays: readonly string[]): string {
  return overlays.includes('statefulset-hostname-pvc') ? 'statefulset-hostname-pvc' : overlays[overlays.length - 1]!;
}
