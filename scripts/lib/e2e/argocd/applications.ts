// The readers of what Argo CD reports, through the API server: each Application's sync and health
// status, the revision it compared, its conditions and its last operation; and the refresh a user
// asks for with `argocd app get --refresh` (the `argocd.argoproj.io/refresh` annotation).
import { ARGOCD_NAMESPACE } from '../../tools/control-plane/argocd.ts';
import type { ControlPlane } from '../../tools/control-plane/start.ts';
import type { DeployedObject } from '../cluster.ts';

const APPLICATIONS_API = `/apis/argoproj.io/v1alpha1/namespaces/${ARGOCD_NAMESPACE}/applications`;
const APPLICATION_SETS_API = `/apis/argoproj.io/v1alpha1/namespaces/${ARGOCD_NAMESPACE}/applicationsets`;

export interface ArgoCondition {
  readonly type: string;
  readonly message?: string;
}

export interface ArgoApplication {
  readonly metadata: { readonly name: string; readonly uid: string; readonly finalizers?: readonly string[]; readonly deletionTimestamp?: string; readonly ownerReferences?: ReadonlyArray<{ readonly kind: string; readonly name: string }> };
  readonly spec: {
    readonly destination: { readonly server?: string; readonly name?: string; readonly namespace?: string };
    readonly source?: { readonly path?: string; readonly targetRevision?: string };
    readonly syncPolicy?: { readonly automated?: { readonly enabled?: boolean; readonly prune?: boolean; readonly selfHeal?: boolean } };
  };
  readonly status?: {
    readonly sync?: { readonly status?: string; readonly revision?: string };
    readonly health?: { readonly status?: string; readonly message?: string };
    readonly conditions?: readonly ArgoCondition[];
    readonly reconciledAt?: string;
    /** What was deployed, oldest first: the last entry's revision is the commit the cluster runs. */
    readonly history?: ReadonlyArray<{ readonly revision?: string; readonly deployedAt?: string; readonly deployStartedAt?: string }>;
    readonly operationState?: { readonly phase?: string; readonly message?: string; readonly startedAt?: string; readonly finishedAt?: string; readonly syncResult?: { readonly revision?: string; readonly resources?: ReadonlyArray<{ readonly kind: string; readonly name: string; readonly status?: string; readonly message?: string }> }; readonly retryCount?: number };
    readonly resources?: ReadonlyArray<{ readonly group?: string; readonly kind: string; readonly namespace?: string; readonly name: string; readonly status?: string; readonly health?: { readonly status?: string } }>;
  };
}

export async function getApplication(cp: ControlPlane, name: string): Promise<ArgoApplication | undefined> {
  const res = await cp.api(`${APPLICATIONS_API}/${name}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET Application ${name}: HTTP ${res.status}`);
  return JSON.parse(res.body) as ArgoApplication;
}

export async function listApplications(cp: ControlPlane): Promise<ArgoApplication[]> {
  const res = await cp.api(APPLICATIONS_API);
  if (res.status !== 200) throw new Error(`list Applications: HTTP ${res.status}`);
  return (JSON.parse(res.body) as { items: ArgoApplication[] }).items;
}

export async function applicationSetExists(cp: ControlPlane, name: string): Promise<boolean> {
  return (await cp.api(`${APPLICATION_SETS_API}/${name}`)).status === 200;
}

/** What `argocd app get --refresh` (normal) or `--hard-refresh` (hard: regenerate the manifests) asks for. */
export async function refreshApplication(cp: ControlPlane, name: string, kind: 'normal' | 'hard' = 'normal'): Promise<void> {
  await cp.kubectlOk(['-n', ARGOCD_NAMESPACE, 'annotate', '--overwrite', `applications.argoproj.io/${name}`, `argocd.argoproj.io/refresh=${kind}`]);
}

/** What an Application deployed, from its status.resources. */
export function applicationObjects(app: ArgoApplication): DeployedObject[] {
  return (app.status?.resources ?? []).map((r) => ({ group: r.group ?? '', kind: r.kind, namespace: r.namespace, name: r.name }));
}

/** One line an Application, for a failure: sync and health, the revision, conditions and the last operation. */
export function describeApplication(app: ArgoApplication): string {
  const s = app.status;
  const conditions = (s?.conditions ?? []).map((c) => `${c.type}: ${c.message ?? ''}`).join('; ');
  const op = s?.operationState ? ` operation ${s.operationState.phase ?? '?'}: ${s.operationState.message ?? ''}` : '';
  const unhealthy = (s?.resources ?? []).filter((r) => r.health?.status && r.health.status !== 'Healthy').map((r) => `${r.kind}/${r.name}=${r.health?.status}`);
  return `  Application ${app.metadata.name}: ${s?.sync?.status ?? 'no sync status'}/${s?.health?.status ?? 'no health'} at ${s?.sync?.revision?.slice(0, 12) ?? 'nothing'}${conditions ? ` [${conditions}]` : ''}${op}${unhealthy.length ? ` (not healthy: ${unhealthy.join(', ')})` : ''}`;
}

export async function describeArgoCd(cp: ControlPlane): Promise<string> {
  try {
    const apps = await listApplications(cp);
    return apps.length > 0 ? apps.map(describeApplication).join('\n') : '  no Application yet';
  } catch (error) {
    return `  (could not read Argo CD's Applications: ${error instanceof Error ? error.message : String(error)})`;
  }
}
