// Changes that Argo CD or Flux cannot apply, or that lose data: each with what happens on sync and
// the way through. Reads the raw objects, but never a Secret's values.
import { emqxConfigWarnings } from './emqx-config.ts';
import { deepEqual } from './normalize.ts';
import { describeId, idOf } from './objects.ts';
import { pairObjects } from './pair.ts';
import type { DiffWarning } from './types.ts';
import { emqxWorkloadsWithSettings } from '../model/emqx.ts';
import type { K8sObject } from '../model/object.ts';
import type { EmqxWorkload } from '../model/workloads.ts';

type Field = {
  readonly path: readonly string[];
  readonly label: string;
  readonly defaultValue?: unknown;
  /** When only some changes are refused; default: any change. */
  readonly refused?: (base: unknown, head: unknown) => boolean;
  /** The value as the server stores it (its defaults filled in), before comparing. */
  readonly normalize?: (value: unknown) => unknown;
};

/**
 * A claim template as the server stores it: `apiVersion`, `kind` and `volumeMode: Filesystem` are
 * filled in when left out, so writing or dropping them is no change (checked on 1.37).
 */
function storedClaimTemplates(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((t) => {
    if (t === null || typeof t !== 'object') return t;
    const { apiVersion, kind, status: _status, ...rest } = t as Record<string, unknown>;
    const spec = (rest.spec ?? {}) as Record<string, unknown>;
    return {
      ...(apiVersion === undefined || apiVersion === 'v1' ? {} : { apiVersion }),
      ...(kind === undefined || kind === 'PersistentVolumeClaim' ? {} : { kind }),
      ...rest,
      spec: { ...spec, volumeMode: spec.volumeMode ?? 'Filesystem' },
    };
  });
}

/**
 * The server keeps an allocated cluster IP when the applied object leaves the field out (it copies the
 * old one over), so only a head that names a different address is refused (checked on 1.37).
 */
const clusterIpRefused = (base: unknown, head: unknown): boolean => head !== undefined && head !== '' && !deepEqual(base, head);

/** Fields the API server refuses to update, per kind (what this repository's objects can change). */
const IMMUTABLE_FIELDS: Readonly<Record<string, readonly Field[]>> = {
  StatefulSet: [
    { path: ['spec', 'volumeClaimTemplates'], label: 'spec.volumeClaimTemplates', normalize: storedClaimTemplates },
    { path: ['spec', 'serviceName'], label: 'spec.serviceName' },
    { path: ['spec', 'selector'], label: 'spec.selector' },
    { path: ['spec', 'podManagementPolicy'], label: 'spec.podManagementPolicy', defaultValue: 'OrderedReady' },
  ],
  Deployment: [{ path: ['spec', 'selector'], label: 'spec.selector' }],
  Service: [
    { path: ['spec', 'clusterIP'], label: 'spec.clusterIP', refused: clusterIpRefused },
    { path: ['spec', 'clusterIPs'], label: 'spec.clusterIPs', refused: clusterIpRefused },
  ],
  RoleBinding: [{ path: ['roleRef'], label: 'roleRef' }],
  ClusterRoleBinding: [{ path: ['roleRef'], label: 'roleRef' }],
  PersistentVolumeClaim: [{ path: ['spec', 'storageClassName'], label: 'spec.storageClassName' }],
};

function get(object: unknown, path: readonly string[]): unknown {
  let value = object;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

function kubectlTarget(object: K8sObject): string {
  const ns = object.metadata.namespace ? ` -n ${object.metadata.namespace}` : '';
  return `${object.kind.toLowerCase()} ${object.metadata.name}${ns}`;
}

/** What each engine does with such a commit, as `npm run e2e` observes it (docs/gitops.md, "When the diff warns of an immutable field"). */
const ENGINE_OUTCOME =
  'Flux: the Kustomization turns Ready=False (`field is immutable`) and retries at every interval. ' +
  'Argo CD (3.x, ServerSideApply=true): nothing fails visibly: the Application shows Unknown with a ComparisonError, or Synced from its diff cache, and applies nothing from this commit until the object is re-created.';

/** How Argo CD and Flux get the object recreated; each command here is run by test/remedies.test.ts and the e2e. */
const SYNC_AGAIN = 'then refresh or sync (`argocd app get emqx-<overlay> --refresh`, whose auto-sync recreates it, or `flux reconcile kustomization emqx-<overlay> --with-source`)';
const NOT_BY_FORCE =
  'Not Argo CD\'s `Replace=true`: a sync with it runs `kubectl replace`, which the API server rejects like the apply. ' +
  '`Force=true,Replace=true` (Argo CD, annotation `argocd.argoproj.io/sync-options`) and Flux\'s force (annotation `kustomize.toolkit.fluxcd.io/force: enabled`, or `spec.force: true` on the Kustomization) ' +
  'do get through, by deleting and recreating the object';

/** The way through a change the API server refuses to make in place: recreate the object, keeping what it owns. */
export function recreateRemedy(object: K8sObject): string {
  const target = kubectlTarget(object);
  switch (object.kind) {
    case 'StatefulSet':
      return (
        `Recreate it, keeping its pods and claims: \`kubectl delete ${target} --cascade=orphan\`, ${SYNC_AGAIN}. ` +
        'The new StatefulSet adopts the running pods and their claims (no broker restarts for that); pods are replaced with a changed pod template one at a time, as in any rolling update. ' +
        'Existing claims keep their size and labels: only claims created from now on (new replicas) follow the new `volumeClaimTemplates`. ' +
        `${NOT_BY_FORCE}: every broker goes down at once. Use the orphan delete.`
      );
    case 'Deployment':
      return (
        `Recreate it, keeping its pods while the new ones start: \`kubectl delete ${target} --cascade=orphan\`, ${SYNC_AGAIN}. ` +
        `The new Deployment starts its own ReplicaSet; once its pods are Ready, delete the old one (\`kubectl get replicasets${object.metadata.namespace ? ` -n ${object.metadata.namespace}` : ''}\` lists it: the one no Deployment owns). ` +
        `${NOT_BY_FORCE}: every pod goes down at once.`
      );
    default:
      return `Delete it: \`kubectl delete ${target}\`, ${SYNC_AGAIN}; it is missing until the sync recreates it. ${NOT_BY_FORCE}, the same thing at the tool's moment.`;
  }
}

const CLAIM_CLASS_REMEDY =
  'A claim\'s class cannot change: revert it. To move the data to another class, create a claim under a new name, copy the data across, then switch the pod to it; ' +
  'deleting the claim deletes its volume and data when the reclaim policy is `Delete`.';

function immutableFieldWarnings(overlay: string, base: K8sObject, head: K8sObject): DiffWarning[] {
  const fields = IMMUTABLE_FIELDS[head.kind] ?? [];
  const changed = fields.filter((f) => {
    const stored = (o: K8sObject) => (f.normalize ?? ((v: unknown) => v))(get(o, f.path) ?? f.defaultValue);
    const [b, h] = [stored(base), stored(head)];
    return f.refused ? f.refused(b, h) : !deepEqual(b, h);
  });
  if (changed.length === 0) return [];
  const labels = changed.map((f) => `\`${f.label}\``).join(', ');
  return [
    {
      overlay,
      rule: 'immutable-field',
      object: describeId(idOf(head)),
      message: `${labels} cannot change on a live ${head.kind}: the API server rejects the update (\`Forbidden\` / \`field is immutable\`). ${ENGINE_OUTCOME}`,
      remedy: head.kind === 'PersistentVolumeClaim' ? CLAIM_CLASS_REMEDY : recreateRemedy(head),
    },
  ];
}

function replicasOf(object: K8sObject): number {
  const replicas = get(object, ['spec', 'replicas']);
  return typeof replicas === 'number' ? replicas : 1;
}

function claimTemplates(object: K8sObject): string[] {
  const templates = get(object, ['spec', 'volumeClaimTemplates']);
  return Array.isArray(templates) ? templates.map((t) => String(get(t, ['metadata', 'name']) ?? '')).filter(Boolean) : [];
}

function scaleDownWarnings(overlay: string, base: K8sObject, head: K8sObject): DiffWarning[] {
  if (head.kind !== 'StatefulSet') return [];
  const from = replicasOf(base);
  const to = replicasOf(head);
  const claims = claimTemplates(head);
  if (to >= from || claims.length === 0) return [];
  const name = head.metadata.name;
  const gone = Array.from({ length: from - to }, (_, i) => to + i);
  const claimNames = gone.flatMap((ordinal) => claims.map((claim) => `${claim}-${name}-${ordinal}`));
  const deletes = get(head, ['spec', 'persistentVolumeClaimRetentionPolicy', 'whenScaled']) === 'Delete';
  return [
    {
      overlay,
      rule: 'statefulset-scale-down',
      object: describeId(idOf(head)),
      message:
        `Scaling from ${from} to ${to} replicas removes the pods ${gone.map((o) => `${name}-${o}`).join(', ')}; ` +
        (deletes
          ? `their claims (${claimNames.join(', ')}) are DELETED (whenScaled: Delete), and their data with them. `
          : `their claims (${claimNames.join(', ')}) stay behind, unused, until deleted by hand. `) +
        'For EMQX, the removed nodes also stay in the cluster membership until autoclean removes them.',
      remedy:
        `Before merging, make the leaving nodes leave: \`kubectl exec -n ${head.metadata.namespace ?? '<namespace>'} ${name}-N -- emqx ctl cluster leave\` for each. ` +
        `After the sync, delete the claims you will not scale back to: \`kubectl delete pvc ${claimNames.join(' ')}${head.metadata.namespace ? ` -n ${head.metadata.namespace}` : ''}\`.`,
    },
  ];
}

function removedDataWarnings(overlay: string, base: K8sObject): DiffWarning[] {
  const keep =
    'If the data must survive, keep the object out of pruning (Argo CD: annotation `argocd.argoproj.io/sync-options: Prune=false`; ' +
    'Flux: annotation `kustomize.toolkit.fluxcd.io/prune: disabled`) or back it up first (`emqx ctl data export`).';
  if (base.kind === 'PersistentVolumeClaim') {
    return [
      {
        overlay,
        rule: 'data-removed',
        object: describeId(idOf(base)),
        message: 'This claim disappears from the render: pruning deletes it, and with a `Delete` reclaim policy (the default for dynamic volumes) its volume and data.',
        remedy: keep,
      },
    ];
  }
  if (base.kind !== 'StatefulSet') return [];
  const claims = claimTemplates(base);
  const deletes = get(base, ['spec', 'persistentVolumeClaimRetentionPolicy', 'whenDeleted']) === 'Delete';
  const data =
    claims.length === 0
      ? 'its pods and their data (no claims: the data lives in the pods) are deleted'
      : deletes
        ? `its pods are deleted, and so are their claims (whenDeleted: Delete) with the data`
        : `its pods are deleted; their claims (${claims.join(', ')}-…) stay behind, unused`;
  return [{ overlay, rule: 'data-removed', object: describeId(idOf(base)), message: `This StatefulSet disappears from the render: on a pruning sync ${data}.`, remedy: keep }];
}

/** The settings a node name is built from: a change to any of them renames the nodes. */
const NODE_NAME_SETTINGS = [
  'EMQX_NODE__NAME',
  'EMQX_NAME',
  'EMQX_HOST',
  'EMQX_CLUSTER__K8S__ADDRESS_TYPE',
  'EMQX_CLUSTER__K8S__SERVICE_NAME',
  'EMQX_CLUSTER__K8S__NAMESPACE',
  'EMQX_CLUSTER__K8S__SUFFIX',
  'EMQX_CLUSTER__DNS__NAME',
] as const;

interface EmqxSide {
  readonly key: string;
  readonly workload: EmqxWorkload;
  /** The broker container's effective environment (validate's resolver: one implementation for both commands). */
  readonly env: Readonly<Record<string, string>>;
  readonly nodeName: string;
}

function emqxSides(objects: readonly K8sObject[]): EmqxSide[] {
  return emqxWorkloadsWithSettings(objects).map(({ settings, ...workload }) => {
    const env = Object.fromEntries([...settings.env.vars.values()].map((v) => [v.name, v.value]));
    // Without EMQX_NODE__NAME or EMQX_HOST the image picks the host itself.
    return { key: workload.object.metadata.name, workload, env, nodeName: settings.nodeName ?? `${env.EMQX_NAME ?? 'emqx'}@(host chosen by the image)` };
  });
}

/** EMQX workloads paired by name: a namespace or kind change is still "the same broker" to its operator. */
function pairEmqx(base: readonly EmqxSide[], head: readonly EmqxSide[]): Array<[EmqxSide, EmqxSide]> {
  if (base.length === 1 && head.length === 1) return [[base[0]!, head[0]!]];
  return head.flatMap((h) => {
    const candidates = base.filter((b) => b.key === h.key);
    return candidates.length === 1 ? [[candidates[0]!, h] as [EmqxSide, EmqxSide]] : [];
  });
}

function hasClaims(side: EmqxSide): boolean {
  return side.workload.object.kind === 'StatefulSet' && claimTemplates(side.workload.object).length > 0;
}

function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0]!;
  const colon = withoutDigest.lastIndexOf(':');
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(colon + 1) : undefined;
}

function nodeNameWarnings(overlay: string, b: EmqxSide, h: EmqxSide): DiffWarning[] {
  const before = b.nodeName;
  const after = h.nodeName;
  if (before === after) return [];
  const causes: string[] = NODE_NAME_SETTINGS.filter((s) => (b.env[s] ?? '') !== (h.env[s] ?? '')).map((s) => `\`${s}\``);
  if ((b.workload.object.metadata.namespace ?? '') !== (h.workload.object.metadata.namespace ?? '')) causes.unshift('the namespace');
  const stored = hasClaims(b)
    ? 'The old database stays on each claim under its old name, unused.'
    : 'With no claim, the data is lost on the restart anyway; the old names linger as stopped members until autoclean.';
  return [
    {
      overlay,
      rule: 'emqx-node-name',
      object: describeId(idOf(h.workload.object)),
      message:
        `EMQX node names change from \`${before}\` to \`${after}\`${causes.length ? ` (changed: ${causes.join(', ')})` : ''}. ` +
        `The database lives in \`data/mnesia/<node name>\`: every node starts with an empty one (sessions, retained messages, rules, users, dashboard settings). ${stored}`,
      remedy:
        'If the rename is not intended, revert it. If it is: export the data first (`emqx ctl data export`), sync, import it on the new cluster ' +
        '(`emqx ctl data import FILE`), then remove the old members (`emqx ctl cluster force-leave OLD_NAME`) and the unused claims.',
    },
  ];
}

/** `5.8.9` -> [5, 8, 9]; `latest` and other non-version tags -> undefined. */
function versionOf(tag: string | undefined): number[] | undefined {
  const match = tag ? /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(tag) : null;
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : undefined;
}

function isBsl(tag: string | undefined): boolean {
  if (tag === 'latest') return true;
  const v = versionOf(tag);
  return v !== undefined && (v[0]! > 5 || (v[0] === 5 && v[1]! >= 9));
}

function licenceWarnings(overlay: string, b: EmqxSide, h: EmqxSide): DiffWarning[] {
  const before = imageTag(String(b.workload.container.image ?? ''));
  const after = imageTag(String(h.workload.container.image ?? ''));
  const replicas = h.workload.replicas;
  if (isBsl(before) || !isBsl(after) || replicas <= 1 || h.env.EMQX_LICENSE__KEY) return [];
  return [
    {
      overlay,
      rule: 'emqx-licence',
      object: describeId(idOf(h.workload.object)),
      message:
        `The image moves from EMQX ${before ?? '(no tag)'} to ${after}. From 5.9.0 on EMQX is under the BSL 1.1: free for a single node, while this ` +
        `${replicas}-node cluster needs a licence (\`EMQX_LICENSE__KEY\`), which this render does not set.`,
      remedy: 'Stay on `emqx/emqx:5.8.9` (the last Apache-2.0 release), or add the licence key from a Secret (`EMQX_LICENSE__KEY` via `secretKeyRef`) before upgrading, or run one replica.',
    },
  ];
}

/** Every warning for one overlay, given its base and head objects (either may be empty). */
export function findWarnings(overlay: string, base: readonly K8sObject[], head: readonly K8sObject[]): DiffWarning[] {
  const warnings: DiffWarning[] = [];
  for (const pair of pairObjects(base, head)) {
    if (pair.base && pair.head) warnings.push(...immutableFieldWarnings(overlay, pair.base, pair.head), ...scaleDownWarnings(overlay, pair.base, pair.head));
    else if (pair.base) warnings.push(...removedDataWarnings(overlay, pair.base));
  }
  for (const [b, h] of pairEmqx(emqxSides(base), emqxSides(head))) warnings.push(...nodeNameWarnings(overlay, b, h), ...licenceWarnings(overlay, b, h));
  warnings.push(...emqxConfigWarnings(overlay, base, head));
  return warnings;
}
