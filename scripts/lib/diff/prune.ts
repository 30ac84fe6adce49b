// A target that goes away (its directory deleted, or its cluster removed from the inventory): what
// the controller that synced it deletes on that cluster, and whether the manifests keep the broker,
// its claims and its Secret alive through it. Reads the base render only, never a Secret's values.
import { describeId, idOf } from './objects.ts';
import { naturalCompare } from '../util/natural-sort.ts';
import type { DiffWarning, PruneSummary } from './types.ts';
import type { K8sObject } from '../model/object.ts';

const ARGO_SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';
const FLUX_PRUNE = 'kustomize.toolkit.fluxcd.io/prune';
const WORKLOAD_KINDS = ['StatefulSet', 'Deployment'];

function argoOptions(object: K8sObject): string[] {
  return String(object.metadata?.annotations?.[ARGO_SYNC_OPTIONS] ?? '')
    .split(',')
    .map((o) => o.trim());
}

/**
 * Whether the manifests keep the object through it: Flux `kustomize.toolkit.fluxcd.io/prune:
 * disabled`; Argo CD `Delete=false`, or `Prune=false` as long as the Application itself stays
 * (a cluster leaving the inventory deletes its Application, and Argo CD then deletes every
 * resource but those with `Delete=false`).
 */
export function keptFromPruning(object: K8sObject, applicationDeleted = false): boolean {
  const argo = argoOptions(object);
  return argo.includes('Delete=false') || (!applicationDeleted && argo.includes('Prune=false')) || object.metadata?.annotations?.[FLUX_PRUNE] === 'disabled';
}

function get(object: unknown, path: readonly string[]): unknown {
  let value = object;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/** Names of the Secrets a pod template reads (envFrom, env, volumes, projected volumes). */
function secretsReadBy(workload: K8sObject): string[] {
  const names = new Set<string>();
  const walk = (value: unknown, key?: string): void => {
    if (Array.isArray(value)) value.forEach((v) => walk(v));
    else if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if ((key === 'secretRef' || key === 'secretKeyRef') && typeof record.name === 'string') names.add(record.name);
      if (key === 'secret' && typeof record.secretName === 'string') names.add(record.secretName);
      if (key === 'secret' && typeof record.name === 'string') names.add(record.name); // projected volume source
      for (const [k, v] of Object.entries(record)) walk(v, k);
    }
  };
  walk(get(workload, ['spec', 'template', 'spec']));
  return [...names].sort(naturalCompare);
}

/** The Secret an ExternalSecret writes, and whether it is deleted with it (`creationPolicy: Owner`, the default). */
function externalSecretTarget(object: K8sObject): { name: string; owned: boolean } | undefined {
  if (object.kind !== 'ExternalSecret') return undefined;
  const name = String(get(object, ['spec', 'target', 'name']) ?? object.metadata.name);
  return { name, owned: (get(object, ['spec', 'target', 'creationPolicy']) ?? 'Owner') === 'Owner' };
}

export function pruneSummary(objects: readonly K8sObject[], reasons: PruneSummary['reasons']): PruneSummary {
  const applicationDeleted = reasons.includes('removed-from-inventory');
  const keep = (o: K8sObject) => keptFromPruning(o, applicationDeleted);
  const kept = objects.filter(keep);
  const deleted = objects.filter((o) => !keep(o));
  const byKind = new Map<string, string[]>();
  for (const o of deleted) {
    const id = describeId(idOf(o));
    const kind = id.slice(0, id.indexOf(' '));
    byKind.set(kind, [...(byKind.get(kind) ?? []), o.metadata.name]);
  }
  const deletedByKind = [...byKind.entries()]
    .map(([kind, names]) => ({ kind, names: names.sort(naturalCompare) }))
    .sort((a, b) => (a.kind === 'Namespace' ? -1 : b.kind === 'Namespace' ? 1 : naturalCompare(a.kind, b.kind)));

  const workloads = objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));
  const namespaces = new Set(workloads.map((w) => w.metadata.namespace ?? ''));
  // Deleting a Namespace deletes everything in it, kept objects, claims and Secrets included.
  const goneNamespace = deleted.find((o) => o.kind === 'Namespace' && namespaces.has(o.metadata.name));
  const viaNamespace = goneNamespace ? `the Namespace ${goneNamespace.metadata.name} is pruned, and with it everything in it` : undefined;

  const workload = (() => {
    if (workloads.length === 0) return { survives: true, why: 'the render has no StatefulSet or Deployment' };
    if (viaNamespace) return { survives: false, why: viaNamespace };
    const lost = workloads.filter((w) => !keep(w));
    return lost.length === 0
      ? { survives: true, why: `${workloads.map((w) => `${w.kind} ${w.metadata.name}`).join(', ')} kept out of pruning by annotation` }
      : { survives: false, why: `${lost.map((w) => `${w.kind} ${w.metadata.name}`).join(', ')} is pruned, and its pods with it` };
  })();

  const claims = (() => {
    const claimObjects = objects.filter((o) => o.kind === 'PersistentVolumeClaim');
    const templated = workloads.filter((w) => w.kind === 'StatefulSet' && Array.isArray(get(w, ['spec', 'volumeClaimTemplates'])) && (get(w, ['spec', 'volumeClaimTemplates']) as unknown[]).length > 0);
    if (claimObjects.length === 0 && templated.length === 0) return { survives: false, why: 'there are no claims: the data lives in the pods (emptyDir) and goes with them' };
    if (viaNamespace) return { survives: false, why: viaNamespace };
    const reasons: string[] = [];
    let survives = true;
    for (const s of templated) {
      const policy = get(s, ['spec', 'persistentVolumeClaimRetentionPolicy', 'whenDeleted']);
      if (keep(s)) reasons.push(`StatefulSet ${s.metadata.name} is kept`);
      else if (policy === 'Delete') {
        survives = false;
        reasons.push(`StatefulSet ${s.metadata.name} has persistentVolumeClaimRetentionPolicy.whenDeleted: Delete, so its claims are deleted with it`);
      } else reasons.push(`StatefulSet ${s.metadata.name}'s claims stay (persistentVolumeClaimRetentionPolicy.whenDeleted: ${policy === 'Retain' ? 'Retain' : 'Retain, the default'}), unused`);
    }
    const prunedClaims = claimObjects.filter((c) => !keep(c));
    if (prunedClaims.length > 0) {
      survives = false;
      reasons.push(`the claims ${prunedClaims.map((c) => c.metadata.name).join(', ')} are in the render and pruned`);
    }
    return { survives, why: reasons.join('; ') };
  })();

  const secret = (() => {
    const read = [...new Set(workloads.flatMap(secretsReadBy))].sort(naturalCompare);
    if (read.length === 0) return { survives: true, why: 'the broker reads no Secret' };
    if (viaNamespace) return { survives: false, why: viaNamespace };
    const reasons: string[] = [];
    let survives = true;
    for (const name of read) {
      const rendered = objects.find((o) => o.kind === 'Secret' && o.metadata.name === name);
      const external = objects.map((o) => ({ o, target: externalSecretTarget(o) })).find((e) => e.target?.name === name);
      if (rendered) {
        if (keep(rendered)) reasons.push(`Secret ${name} is kept by annotation`);
        else {
          survives = false;
          reasons.push(`Secret ${name} is in the render and pruned`);
        }
      } else if (external) {
        if (keep(external.o) || !external.target!.owned) reasons.push(`Secret ${name} stays: its ExternalSecret ${keep(external.o) ? 'is kept by annotation' : 'does not own it (creationPolicy is not Owner)'}`);
        else {
          survives = false;
          reasons.push(`Secret ${name} is deleted with its ExternalSecret (creationPolicy: Owner)`);
        }
      } else reasons.push(`Secret ${name} stays: it is not in the render (created outside git), so the controller never owned it`);
    }
    return { survives, why: reasons.join('; ') };
  })();

  const pruneFalseOnly = applicationDeleted ? deleted.filter((o) => argoOptions(o).includes('Prune=false')).map((o) => describeId(idOf(o))).sort(naturalCompare) : [];
  return {
    reasons,
    deleted: deletedByKind,
    kept: kept.map((o) => describeId(idOf(o))).sort(naturalCompare),
    ...(pruneFalseOnly.length > 0 ? { pruneFalseOnly } : {}),
    workload,
    claims,
    secret,
  };
}

export function pruneWarning(target: string, dir: string, summary: PruneSummary): DiffWarning {
  const why = summary.reasons.map((r) => (r === 'directory-deleted' ? `its directory ${dir} is deleted` : 'its entry in clusters/inventory.yaml is removed')).join(' and ');
  const objects = summary.deleted.map((k) => `${k.names.length} ${k.kind} (${k.names.join(', ')})`).join(', ');
  const state = (label: string, s: { survives: boolean; why: string }) => `${label}: ${s.survives ? 'kept' : 'LOST'} (${s.why}).`;
  return {
    overlay: target,
    rule: 'target-removed',
    object: dir,
    message:
      `${target} goes away (${why}): the controller that syncs it (Argo CD deleting its Application with the resources, Flux garbage-collecting with \`prune: true\`) ` +
      `deletes on that cluster ${objects || 'nothing'}${summary.kept.length ? `; kept by annotation: ${summary.kept.join(', ')}` : ''}. ` +
      (summary.pruneFalseOnly ? `Argo CD \`Prune=false\` does not keep ${summary.pruneFalseOnly.join(', ')} when the Application is deleted: only \`Delete=false\` does. ` : '') +
      `${state('The broker', summary.workload)} ${state('Its data on claims', summary.claims)} ${state('Its Secrets', summary.secret)}`,
    remedy:
      'If the cluster is retired on purpose: export its data first (`emqx ctl data export`), then delete whatever stays behind (claims, the Secret) by hand. ' +
      'If not: restore the directory and its inventory entry. To keep objects through it, first merge and sync the annotations ' +
      '`argocd.argoproj.io/sync-options: Prune=false,Delete=false` (Argo CD) or `kustomize.toolkit.fluxcd.io/prune: disabled` (Flux) on them.',
  };
}
