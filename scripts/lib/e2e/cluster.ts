// What the e2e reads back from the cluster: each overlay's workload (from what the GitOps engine says
// it deployed: a Flux Kustomization's inventory, an Argo CD Application's resources, so the e2e
// follows whatever the overlay renders), its pods and its claims.
import type { ControlPlane } from '../tools/control-plane/start.ts';

export type WorkloadKind = 'StatefulSet' | 'Deployment';

export interface WorkloadRef {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
}

interface Workload {
  readonly metadata: { readonly uid: string; readonly generation?: number };
  readonly spec: {
    readonly replicas?: number;
    readonly selector: { readonly matchLabels?: Record<string, string> };
    readonly template: { readonly spec: PodSpec };
  };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly replicas?: number;
    readonly readyReplicas?: number;
    readonly updatedReplicas?: number;
    readonly availableReplicas?: number;
    readonly currentRevision?: string;
    readonly updateRevision?: string;
  };
}

interface PodSpec {
  readonly containers: ReadonlyArray<{ readonly envFrom?: ReadonlyArray<{ readonly configMapRef?: { readonly name: string } }> }>;
}

export interface PodInfo {
  readonly name: string;
  readonly uid: string;
  readonly configMaps: readonly string[];
  readonly ready: boolean;
  readonly terminating: boolean;
}

export interface ClaimInfo {
  readonly name: string;
  readonly uid: string;
  readonly phase: string;
  readonly storage: string;
}

/** An object a GitOps engine says it deployed. */
export interface DeployedObject {
  readonly group: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** The StatefulSets and Deployments among what an engine deployed. */
export function workloadsAmong(objects: readonly DeployedObject[]): WorkloadRef[] {
  const found: WorkloadRef[] = [];
  for (const { group, kind, namespace, name } of objects) {
    if (group === 'apps' && (kind === 'StatefulSet' || kind === 'Deployment') && namespace && name) found.push({ kind, namespace, name });
  }
  return found;
}

export function describeWorkload(w: WorkloadRef): string {
  return `${w.kind} ${w.namespace}/${w.name}`;
}

function apiPath(w: WorkloadRef): string {
  return `/apis/apps/v1/namespaces/${w.namespace}/${w.kind === 'StatefulSet' ? 'statefulsets' : 'deployments'}/${w.name}`;
}

async function getWorkload(cp: ControlPlane, w: WorkloadRef): Promise<Workload | undefined> {
  const res = await cp.api(apiPath(w));
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET ${describeWorkload(w)}: HTTP ${res.status}`);
  return JSON.parse(res.body) as Workload;
}

export async function workloadUid(cp: ControlPlane, w: WorkloadRef): Promise<string | undefined> {
  return (await getWorkload(cp, w))?.metadata.uid;
}

function configMapsOf(spec: PodSpec): string[] {
  return [...new Set(spec.containers.flatMap((c) => (c.envFrom ?? []).map((e) => e.configMapRef?.name).filter((n): n is string => !!n)))].sort();
}

/** The ConfigMaps the pod template reads with envFrom (the generated `emqx-env-<hash>`). */
export async function templateConfigMaps(cp: ControlPlane, w: WorkloadRef): Promise<string[]> {
  const obj = await getWorkload(cp, w);
  return obj ? configMapsOf(obj.spec.template.spec) : [];
}

/**
 * True when the rollout is complete: the controller saw the latest spec, every replica runs it and
 * is Ready, and (Deployment) no old replica is left. Otherwise the state, for a timeout message.
 */
export async function rolledOut(cp: ControlPlane, w: WorkloadRef): Promise<true | string> {
  const obj = await getWorkload(cp, w);
  if (!obj) return `${describeWorkload(w)} does not exist`;
  const want = obj.spec.replicas ?? 1;
  const s = obj.status ?? {};
  const state = `${describeWorkload(w)}: ${s.readyReplicas ?? 0}/${want} ready, ${s.updatedReplicas ?? 0} updated, ${s.replicas ?? 0} total, generation ${obj.metadata.generation ?? '?'} observed ${s.observedGeneration ?? '?'}`;
  if ((s.observedGeneration ?? 0) < (obj.metadata.generation ?? 0)) return state;
  if ((s.readyReplicas ?? 0) !== want || (s.updatedReplicas ?? 0) !== want || (s.replicas ?? 0) !== want) return state;
  if (w.kind === 'StatefulSet' && s.currentRevision !== s.updateRevision) return `${state}, revision ${s.currentRevision} -> ${s.updateRevision}`;
  if (w.kind === 'Deployment' && (s.availableReplicas ?? 0) !== want) return state;
  const pods = (await podsOf(cp, w)).filter((p) => !p.terminating);
  if (pods.length !== want) return `${state}; ${pods.length} pods`;
  return true;
}

export async function podsOf(cp: ControlPlane, w: WorkloadRef): Promise<PodInfo[]> {
  const obj = await getWorkload(cp, w);
  const labels = obj?.spec.selector.matchLabels ?? { 'app.kubernetes.io/name': 'emqx' };
  const selector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
  const res = await cp.api(`/api/v1/namespaces/${w.namespace}/pods?labelSelector=${encodeURIComponent(selector)}`);
  if (res.status !== 200) throw new Error(`list pods in ${w.namespace}: HTTP ${res.status}`);
  const items = (JSON.parse(res.body) as { items: Array<{ metadata: { name: string; uid: string; deletionTimestamp?: string }; spec: PodSpec; status?: { conditions?: Array<{ type: string; status: string }> } }> }).items;
  return items
    .map((p) => ({
      name: p.metadata.name,
      uid: p.metadata.uid,
      configMaps: configMapsOf(p.spec),
      ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      terminating: p.metadata.deletionTimestamp !== undefined,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function claimsIn(cp: ControlPlane, namespace: string): Promise<ClaimInfo[]> {
  const res = await cp.api(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`);
  if (res.status !== 200) throw new Error(`list claims in ${namespace}: HTTP ${res.status}`);
  const items = (JSON.parse(res.body) as { items: Array<{ metadata: { name: string; uid: string }; spec: { resources?: { requests?: { storage?: string } } }; status?: { phase?: string } }> }).items;
  return items
    .map((c) => ({ name: c.metadata.name, uid: c.metadata.uid, phase: c.status?.phase ?? '', storage: c.spec.resources?.requests?.storage ?? '' }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Whether `GET path` finds the object (for "what did Flux prune"). */
export async function exists(cp: ControlPlane, apiObjectPath: string): Promise<boolean> {
  const res = await cp.api(apiObjectPath);
  if (res.status === 404) return false;
  if (res.status !== 200) throw new Error(`GET ${apiObjectPath}: HTTP ${res.status}`);
  return true;
}

/**
 * The API path of an inventory entry (`<namespace>_<name>_<group>_<kind>`), for the kinds the
 * overlays render; undefined for a kind this table does not know.
 */
export function inventoryPath(id: string): string | undefined {
  const [namespace, name, group, kind] = id.split('_');
  if (!name || kind === undefined) return undefined;
  return objectPath({ group: group ?? '', kind, namespace: namespace || undefined, name });
}

/** The API path of a deployed object, for the kinds the overlays render; undefined for another kind. */
export function objectPath({ group, kind, namespace, name }: DeployedObject): string | undefined {
  const plural: Record<string, [string, string]> = {
    Namespace: ['', 'namespaces'],
    ConfigMap: ['', 'configmaps'],
    Secret: ['', 'secrets'],
    Service: ['', 'services'],
    ServiceAccount: ['', 'serviceaccounts'],
    StatefulSet: ['apps', 'statefulsets'],
    Deployment: ['apps', 'deployments'],
    Role: ['rbac.authorization.k8s.io', 'roles'],
    RoleBinding: ['rbac.authorization.k8s.io', 'rolebindings'],
    PodDisruptionBudget: ['policy', 'poddisruptionbudgets'],
    NetworkPolicy: ['networking.k8s.io', 'networkpolicies'],
    Kustomization: ['kustomize.toolkit.fluxcd.io', 'kustomizations'],
    GitRepository: ['source.toolkit.fluxcd.io', 'gitrepositories'],
    Certificate: ['cert-manager.io', 'certificates'],
    ExternalSecret: ['external-secrets.io', 'externalsecrets'],
    PodMonitor: ['monitoring.coreos.com', 'podmonitors'],
  };
  const entry = plural[kind];
  if (!entry || entry[0] !== (group ?? '')) return undefined;
  const version = { '': 'v1', apps: 'v1', 'rbac.authorization.k8s.io': 'v1', policy: 'v1', 'networking.k8s.io': 'v1', 'kustomize.toolkit.fluxcd.io': 'v1', 'source.toolkit.fluxcd.io': 'v1', 'cert-manager.io': 'v1', 'external-secrets.io': 'v1', 'monitoring.coreos.com': 'v1' }[entry[0]];
  const prefix = entry[0] === '' ? '/api/v1' : `/apis/${entry[0]}/${version}`;
  return namespace ? `${prefix}/namespaces/${namespace}/${entry[1]}/${name}` : `${prefix}/${entry[1]}/${name}`;
}

/** Every StatefulSet and Deployment in the emqx-* namespaces, with its rollout state: for a failure. */
export async function describeWorkloads(cp: ControlPlane): Promise<string> {
  const lines: string[] = [];
  for (const kind of ['StatefulSet', 'Deployment'] as const) {
    const res = await cp.api(`/apis/apps/v1/${kind === 'StatefulSet' ? 'statefulsets' : 'deployments'}`);
    if (res.status !== 200) continue;
    for (const item of (JSON.parse(res.body) as { items: Array<{ metadata: { namespace: string; name: string } }> }).items) {
      if (!item.metadata.namespace.startsWith('emqx-')) continue;
      const w: WorkloadRef = { kind, namespace: item.metadata.namespace, name: item.metadata.name };
      const state = await rolledOut(cp, w);
      const pods = await podsOf(cp, w);
      lines.push(`  ${state === true ? `${describeWorkload(w)}: rolled out` : state}; pods: ${pods.map((p) => `${p.name}${p.ready ? '' : ' (not Ready)'}${p.terminating ? ' (terminating)' : ''}`).join(', ') || 'none'}`);
    }
  }
  return lines.join('\n') || '  (no workloads)';
}
