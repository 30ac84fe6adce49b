// Reading the control plane's live objects, and acting as a pod's ServiceAccount.
import type { ControlPlane } from '../tools/control-plane/start.ts';
import { asArray, asRecord, asString, stringMap, type Json } from '../model/object.ts';

export interface LivePod {
  readonly metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string };
  readonly spec: Json & { serviceAccountName?: string; nodeName?: string; containers?: Json[]; volumes?: Json[] };
  readonly status?: { podIP?: string; hostIP?: string; phase?: string; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

/** GET as the admin; `undefined` for 404, an Error for anything else but 200. */
export async function getJson<T = Json>(cp: ControlPlane, apiPath: string): Promise<T | undefined> {
  const res = await cp.api(apiPath);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET ${apiPath}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  return JSON.parse(res.body) as T;
}

export async function listJson<T = Json>(cp: ControlPlane, apiPath: string): Promise<T[]> {
  return ((await getJson<{ items?: T[] }>(cp, apiPath))?.items ?? []) as T[];
}

export function isReady(pod: LivePod): boolean {
  return pod.metadata.deletionTimestamp === undefined && (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** `?labelSelector=` for a workload's `spec.selector.matchLabels`. */
export function labelSelector(selector: unknown): string {
  return Object.entries(stringMap(asRecord(selector).matchLabels))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export async function podsOf(cp: ControlPlane, namespace: string, selector: unknown): Promise<LivePod[]> {
  return listJson<LivePod>(cp, `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(labelSelector(selector))}`);
}

/** Why a pod is not Ready, from its conditions: `PodScheduled=False (Unschedulable: 0/3 nodes ...)`. */
export function podTrouble(pod: LivePod): string {
  const failing = (pod.status?.conditions ?? []).filter((c) => c.status !== 'True');
  if (failing.length === 0) return pod.metadata.deletionTimestamp ? 'terminating' : `phase ${pod.status?.phase ?? 'unknown'}`;
  return failing.map((c) => `${c.type}=${c.status}${c.reason || c.message ? ` (${[c.reason, c.message].filter(Boolean).join(': ')})` : ''}`).join(', ');
}

/** The newest Warning events about an object (FailedCreate from a controller, FailedScheduling). */
export async function warningEvents(cp: ControlPlane, namespace: string, kind: string, name: string): Promise<string[]> {
  const selector = encodeURIComponent(`involvedObject.kind=${kind},involvedObject.name=${name},type=Warning`);
  const events = await listJson<Json>(cp, `/api/v1/namespaces/${namespace}/events?fieldSelector=${selector}`).catch(() => []);
  const messages = events.map((e) => `${asString(e.reason) ?? 'Warning'}: ${asString(e.message) ?? ''}`.trim());
  return [...new Set(messages)].slice(-3);
}

/**
 * A token for the ServiceAccount, bound to the pod as the kubelet's projected token is: what EMQX
 * reads from /var/run/secrets/kubernetes.io/serviceaccount/token. Never printed.
 */
export async function serviceAccountToken(cp: ControlPlane, pod: LivePod): Promise<string> {
  const sa = pod.spec.serviceAccountName ?? 'default';
  const ns = pod.metadata.namespace;
  const res = await cp.api(`/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
    method: 'POST',
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid } },
    },
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`TokenRequest for ServiceAccount ${ns}/${sa}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  const token = asString(asRecord(asRecord(JSON.parse(res.body)).status).token);
  if (!token) throw new Error(`TokenRequest for ServiceAccount ${ns}/${sa} returned no token`);
  return token;
}

/** Whether the pod mounts a ServiceAccount token (the admission plugin's projected kube-api-access volume, or one of its own). */
export function mountsToken(pod: LivePod): boolean {
  return asArray(pod.spec.volumes).some((v) => asArray(asRecord(v.projected).sources).some((s) => s.serviceAccountToken !== undefined));
}

/** A downward-API field of the live pod, as the kubelet fills `fieldRef`. */
export function podField(pod: LivePod, fieldPath: string): string | undefined {
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (keyed) return (keyed[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[keyed[2]!];
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.uid':
      return pod.metadata.uid;
    case 'spec.nodeName':
      return pod.spec.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName;
    case 'status.podIP':
      return pod.status?.podIP;
    case 'status.hostIP':
      return pod.status?.hostIP;
    default:
      return undefined;
  }
}
