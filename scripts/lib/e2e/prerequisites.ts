// What the docs tell a user to create before the first sync, done on the ephemeral cluster:
// - per overlay, the namespace and the `emqx-secrets` Secret (docs/overlays.md, "Create the Secret and
//   deploy"), with random values that are sent to the API server on standard input, never on a
//   command line, and never printed;
// - for `production` (docs/components.md, "The production overlay"), the `ClusterIssuer
//   emqx-issuer` and the `ClusterSecretStore emqx-secret-store` its Certificate and ExternalSecrets
//   name (the CRDs come with installCrds).
// No cert-manager or External Secrets controller runs here, so `standInForOperators` writes the
// Secrets they would write (each ExternalSecret's target, each Certificate's secretName), with
// random values, once the GitOps tool has applied those objects, and the `Ready=True` status they
// would report (Argo CD's health checks for both kinds read it; Flux does not look), and the address a
// cloud load balancer would publish for a LoadBalancer Service. kwok runs no containers, so the
// pods never read any of these values; they exist so the cluster holds what a real one would.
import { randomBytes } from 'node:crypto';
import { toKubectlInput } from '../tools/kubectl.ts';
import type { ControlPlane } from '../tools/control-plane/start.ts';

const STAND_IN_LABEL = 'e2e.emqx-gitops.invalid/stand-in-for';

function secret(namespace: string, name: string, data: Record<string, string>, labels: Record<string, string> = {}, type = 'Opaque'): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels },
    type,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

async function apply(cp: ControlPlane, docs: readonly unknown[]): Promise<void> {
  if (docs.length === 0) return;
  await cp.kubectlOk(['apply', '-f', '-'], { input: toKubectlInput(docs) });
}

/** `kubectl create namespace emqx-<overlay>` and the Secret, for every overlay. */
export async function createOverlayPrerequisites(cp: ControlPlane, overlays: readonly string[]): Promise<string[]> {
  const namespaces = overlays.map((o) => `emqx-${o}`);
  for (const ns of namespaces) await cp.kubectlOk(['create', 'namespace', ns]);
  await apply(
    cp,
    namespaces.map((ns) => secret(ns, 'emqx-secrets', { 'node-cookie': randomBytes(32).toString('hex'), 'dashboard-password': randomBytes(24).toString('base64') })),
  );
  return namespaces;
}

/** The issuer and the store `production` names; inert without their operators, but present. */
export async function createOperatorPrerequisites(cp: ControlPlane): Promise<void> {
  await apply(cp, [
    { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: 'emqx-issuer' }, spec: { selfSigned: {} } },
    // The fake provider holds no values here: standInForOperators writes the Secrets directly.
    { apiVersion: 'external-secrets.io/v1', kind: 'ClusterSecretStore', metadata: { name: 'emqx-secret-store' }, spec: { provider: { fake: { data: [] } } } },
  ]);
}

interface ExternalSecretObj {
  metadata: { name: string; namespace: string };
  status?: { conditions?: Array<{ type: string; status: string }> };
  spec: { target?: { name?: string }; data?: Array<{ secretKey: string }> };
}
interface CertificateObj {
  metadata: { name: string; namespace: string };
  status?: { conditions?: Array<{ type: string; status: string }> };
  spec: { secretName: string };
}

/** Writes the Secrets External Secrets and cert-manager would write, where they are missing. Returns what it created. */
export async function standInForOperators(cp: ControlPlane): Promise<string[]> {
  const docs: unknown[] = [];
  const created: string[] = [];
  const list = async <T>(p: string): Promise<T[]> => {
    const res = await cp.api(p);
    return res.status === 200 ? (JSON.parse(res.body) as { items: T[] }).items : [];
  };
  const missing = async (ns: string, name: string) => (await cp.api(`/api/v1/namespaces/${ns}/secrets/${name}`)).status === 404;
  for (const es of await list<ExternalSecretObj>('/apis/external-secrets.io/v1/externalsecrets')) {
    const name = es.spec.target?.name ?? es.metadata.name;
    if (!(await missing(es.metadata.namespace, name))) continue;
    const data = Object.fromEntries((es.spec.data ?? []).map((d) => [d.secretKey, randomBytes(24).toString('hex')]));
    docs.push(secret(es.metadata.namespace, name, data, { [STAND_IN_LABEL]: 'external-secrets' }));
    created.push(`Secret ${es.metadata.namespace}/${name} (ExternalSecret ${es.metadata.name})`);
  }
  for (const c of await list<CertificateObj>('/apis/cert-manager.io/v1/certificates')) {
    if (!(await missing(c.metadata.namespace, c.spec.secretName))) continue;
    // Placeholders: nothing mounts them (kwok), and the API server checks only that the keys exist.
    docs.push(secret(c.metadata.namespace, c.spec.secretName, { 'tls.crt': 'placeholder', 'tls.key': 'placeholder', 'ca.crt': 'placeholder' }, { [STAND_IN_LABEL]: 'cert-manager' }, 'kubernetes.io/tls'));
    created.push(`Secret ${c.metadata.namespace}/${c.spec.secretName} (Certificate ${c.metadata.name})`);
  }
  await apply(cp, docs);
  const ready = { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'StandIn', message: `written by the e2e in place of the operator (${STAND_IN_LABEL})`, lastTransitionTime: new Date().toISOString() }] } };
  const notReady = (o: { status?: { conditions?: Array<{ type: string; status: string }> } }) => !o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  const statuses = [
    ...(await list<ExternalSecretObj>('/apis/external-secrets.io/v1/externalsecrets')).filter(notReady).map((o) => ['externalsecrets.external-secrets.io', o] as const),
    ...(await list<CertificateObj>('/apis/cert-manager.io/v1/certificates')).filter(notReady).map((o) => ['certificates.cert-manager.io', o] as const),
  ];
  // No cloud controller either: a LoadBalancer Service gets the address one would publish (a name
  // under .invalid, never resolved or contacted); Argo CD counts such a Service Progressing until then.
  const services = (await list<{ metadata: { name: string; namespace: string }; spec: { type?: string }; status?: { loadBalancer?: { ingress?: unknown[] } } }>('/api/v1/services')).filter(
    (svc) => svc.metadata.namespace.startsWith('emqx-') && svc.spec.type === 'LoadBalancer' && !svc.status?.loadBalancer?.ingress?.length,
  );
  for (const svc of services) {
    const status = { status: { loadBalancer: { ingress: [{ hostname: `${svc.metadata.name}.${svc.metadata.namespace}.lb.e2e.invalid` }] } } };
    await cp.kubectlOk(['-n', svc.metadata.namespace, 'patch', `service/${svc.metadata.name}`, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    created.push(`status.loadBalancer of Service ${svc.metadata.namespace}/${svc.metadata.name}`);
  }
  for (const [resource, o] of statuses) {
    await cp.kubectlOk(['-n', o.metadata.namespace, 'patch', `${resource}/${o.metadata.name}`, '--subresource=status', '--type=merge', '-p', JSON.stringify(ready)]);
    created.push(`status Ready=True of ${resource.split('.')[0]} ${o.metadata.namespace}/${o.metadata.name}`);
  }
  return created;
}
