// What makes EMQX work, asserted on each overlay as the real kustomize renders it.
import { beforeAll, describe, expect, it } from 'vitest';
import { configEnv, effectiveEnv, emqxContainer, podSpecOf, workloadOf } from './helpers/pod.ts';
import { find, only, renderRepoOverlays } from './helpers/render.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';

let overlays: Map<string, K8sObject[]>;
beforeAll(async () => {
  overlays = await renderRepoOverlays();
});
const objectsOf = (name: string): K8sObject[] => {
  const objects = overlays.get(name);
  if (!objects) throw new Error(`overlay ${name} was not rendered`);
  return objects;
};
const spec = (o: K8sObject) => (o as unknown as { spec: Record<string, any> }).spec;

const ALL = ['single-node', 'deployment-ip', 'statefulset-hostname-pvc'] as const;
const CLUSTERED = ['deployment-ip', 'statefulset-hostname-pvc'] as const;

/**
 * The node name EMQX's k8s discovery computes for a peer (ekka_cluster_k8s): <name>@<host>, where
 * host is the endpoint's IP for address_type ip, and <hostname>.<service_name>.<namespace>.<suffix>
 * for hostname (the endpoint's hostname is the StatefulSet pod's name).
 */
function peerNameSeenByDiscovery(config: Record<string, string>, pod: { name: string; namespace: string; ip: string }): string {
  const name = config.EMQX_NAME ?? 'emqx';
  switch (config.EMQX_CLUSTER__K8S__ADDRESS_TYPE) {
    case 'ip':
      return `${name}@${pod.ip}`;
    case 'hostname':
      return `${name}@${pod.name}.${config.EMQX_CLUSTER__K8S__SERVICE_NAME}.${pod.namespace}.${config.EMQX_CLUSTER__K8S__SUFFIX}`;
    default:
      throw new Error(`unexpected address type ${config.EMQX_CLUSTER__K8S__ADDRESS_TYPE}`);
  }
}

describe.each(ALL)('overlay %s: every overlay', (overlay) => {
  it('runs in its own namespace, emqx-<overlay>', () => {
    for (const o of objectsOf(overlay)) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(`emqx-${overlay}`);
  });

  it('labels every resource with name, instance, component, part-of and version', () => {
    for (const o of objectsOf(overlay)) {
      expect(o.metadata.labels, `${o.kind}/${o.metadata.name}`).toMatchObject({
        'app.kubernetes.io/name': 'emqx',
        'app.kubernetes.io/instance': 'emqx',
        'app.kubernetes.io/component': 'broker',
        'app.kubernetes.io/part-of': 'emqx',
        'app.kubernetes.io/version': expect.stringMatching(/^\d+\.\d+\.\d+$/),
      });
    }
  });

  it('keeps selectors to name + instance, and they select the pod template', () => {
    const workload = workloadOf(objectsOf(overlay));
    const selector = spec(workload).selector.matchLabels;
    expect(selector).toEqual({ 'app.kubernetes.io/name': 'emqx', 'app.kubernetes.io/instance': 'emqx' });
    expect(spec(workload).template.metadata.labels).toMatchObject(selector);
    for (const service of find(objectsOf(overlay), 'Service')) expect(spec(service).selector, service.metadata.name).toEqual(selector);
    expect(spec(only(objectsOf(overlay), 'PodDisruptionBudget')).selector.matchLabels).toEqual(selector);
  });

  it('pins emqx/emqx:5.8.9 and labels it with the same version', () => {
    const container = emqxContainer(objectsOf(overlay));
    expect(container.image).toBe('emqx/emqx:5.8.9');
    expect(workloadOf(objectsOf(overlay)).metadata.labels?.['app.kubernetes.io/version']).toBe(container.image.split(':')[1]);
  });

  it('meets the restricted Pod Security Standard', () => {
    const pod = podSpecOf(workloadOf(objectsOf(overlay)));
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(emqxContainer(objectsOf(overlay)).securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect((emqxContainer(objectsOf(overlay)).securityContext as Record<string, unknown>).privileged).not.toBe(true);
  });

  it('probes readiness on GET /status, liveness on GET / (the VM answers), both on the dashboard port (18083)', () => {
    const container = emqxContainer(objectsOf(overlay));
    const dashboard = container.ports?.find((p) => p.name === 'dashboard');
    expect(dashboard?.containerPort).toBe(18083);
    expect((container.readinessProbe as { httpGet: unknown }).httpGet).toEqual({ path: '/status', port: 'dashboard' });
    expect((container.livenessProbe as { httpGet: unknown }).httpGet).toEqual({ path: '/', port: 'dashboard' });
    expect((container.livenessProbe as { initialDelaySeconds: number }).initialDelaySeconds).toBeGreaterThanOrEqual(60);
  });

  it('requests CPU and memory and caps memory', () => {
    const resources = emqxContainer(objectsOf(overlay)).resources as { requests: Record<string, string>; limits: Record<string, string> };
    expect(resources.requests.cpu).toBeTruthy();
    expect(resources.requests.memory).toBeTruthy();
    expect(resources.limits.memory).toBeTruthy();
  });

  it('lets EMQX shut down gracefully and spreads pods across nodes', () => {
    const pod = podSpecOf(workloadOf(objectsOf(overlay)));
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
    expect(pod.topologySpreadConstraints).toEqual(
      expect.arrayContaining([expect.objectContaining({ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: spec(workloadOf(objectsOf(overlay))).selector.matchLabels } })]),
    );
  });

  it('reads the cookie and the dashboard password from the emqx-secrets Secret, which the render does not contain', () => {
    const env = emqxContainer(objectsOf(overlay)).env ?? [];
    expect(env.find((e) => e.name === 'EMQX_NODE__COOKIE')?.valueFrom?.secretKeyRef).toEqual({ name: 'emqx-secrets', key: 'node-cookie' });
    expect(env.find((e) => e.name === 'EMQX_DASHBOARD__DEFAULT_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'emqx-secrets', key: 'dashboard-password' });
    expect(find(objectsOf(overlay), 'Secret')).toEqual([]);
    const config = configEnv(objectsOf(overlay));
    expect(config).not.toHaveProperty('EMQX_NODE__COOKIE');
    expect(config).not.toHaveProperty('EMQX_DASHBOARD__DEFAULT_PASSWORD');
  });

  it('uses no EMQX 4.x keys and no 4.x port', () => {
    const config = configEnv(objectsOf(overlay));
    for (const key of ['EMQX_CLUSTER__DISCOVERY', 'EMQX_CLUSTER__K8S__APP_NAME', 'EMQX_CLUSTER__DNS__APP', 'EMQX_CLUSTER__DNS__TYPE']) {
      expect(config, key).not.toHaveProperty(key);
    }
    const ports = emqxContainer(objectsOf(overlay)).ports?.map((p) => p.containerPort);
    expect(ports).not.toContain(8081);
    expect(ports).toEqual(expect.arrayContaining([1883, 8883, 8083, 8084, 18083, 4370, 5369]));
  });

  it('defines every $(VAR) before it is used, so the kubelet expands it', () => {
    const defined = new Set(Object.keys(configEnv(objectsOf(overlay))));
    for (const variable of emqxContainer(objectsOf(overlay)).env ?? []) {
      for (const [, name] of variable.value?.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g) ?? []) {
        expect(defined.has(name!), `${variable.name} uses $(${name}) before it is defined`).toBe(true);
      }
      defined.add(variable.name);
    }
  });

  it('exposes MQTT, MQTT/TLS, WS, WSS and the dashboard on the client Service', () => {
    const ports = spec(only(objectsOf(overlay), 'Service', 'emqx')).ports as { name: string; port: number; targetPort: string }[];
    expect(ports.map((p) => [p.name, p.port])).toEqual([
      ['mqtt', 1883],
      ['mqtts', 8883],
      ['ws', 8083],
      ['wss', 8084],
      ['dashboard', 18083],
    ]);
    const containerPorts = new Set(emqxContainer(objectsOf(overlay)).ports?.map((p) => p.name));
    for (const p of ports) expect(containerPorts.has(p.targetPort), p.targetPort).toBe(true);
  });

  it('lets only EMQX pods reach the cluster ports, and clients the MQTT and dashboard ports', () => {
    const policy = spec(only(objectsOf(overlay), 'NetworkPolicy'));
    const selector = spec(workloadOf(objectsOf(overlay))).selector.matchLabels;
    expect(policy.podSelector.matchLabels).toEqual(selector);
    expect(policy.policyTypes).toEqual(['Ingress']);
    const clusterRule = policy.ingress.find((rule: any) => rule.ports.some((p: any) => p.port === 'ekka'));
    expect(clusterRule.from).toEqual([{ podSelector: { matchLabels: selector } }]);
    expect(clusterRule.ports.map((p: any) => p.port).sort()).toEqual(['ekka', 'gen-rpc']);
    const clientRule = policy.ingress.find((rule: any) => rule !== clusterRule);
    expect(clientRule.from).toBeUndefined();
    expect(clientRule.ports.map((p: any) => p.port)).not.toContain('ekka');
    expect(clientRule.ports.map((p: any) => p.port)).not.toContain('gen-rpc');
  });

  it('has a PodDisruptionBudget that never blocks a drain of a single replica', () => {
    expect(spec(only(objectsOf(overlay), 'PodDisruptionBudget')).maxUnavailable).toBe(1);
  });
});

describe.each(CLUSTERED)('overlay %s: a cluster through the Kubernetes API', (overlay) => {
  it('runs 3 replicas with k8s discovery against the in-cluster API server', () => {
    expect(spec(workloadOf(objectsOf(overlay))).replicas).toBe(3);
    const config = configEnv(objectsOf(overlay));
    expect(config.EMQX_CLUSTER__DISCOVERY_STRATEGY).toBe('k8s');
    expect(config.EMQX_CLUSTER__K8S__APISERVER).toBe('https://kubernetes.default.svc:443');
  });

  it('takes the namespace discovery reads from the downward API', () => {
    const variable = emqxContainer(objectsOf(overlay)).env?.find((e) => e.name === 'EMQX_CLUSTER__K8S__NAMESPACE');
    expect(variable?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
    expect(configEnv(objectsOf(overlay))).not.toHaveProperty('EMQX_CLUSTER__K8S__NAMESPACE');
  });

  it('points discovery at a headless Service that selects the pods and publishes not-ready addresses', () => {
    const config = configEnv(objectsOf(overlay));
    const service = only(objectsOf(overlay), 'Service', config.EMQX_CLUSTER__K8S__SERVICE_NAME);
    expect(spec(service).clusterIP).toBe('None');
    expect(spec(service).publishNotReadyAddresses).toBe(true);
    expect(spec(workloadOf(objectsOf(overlay))).template.metadata.labels).toMatchObject(spec(service).selector);
    expect((spec(service).ports as { port: number }[]).map((p) => p.port).sort()).toEqual([4370, 5369]);
  });

  it('binds the pod ServiceAccount to a Role that grants exactly get, list, watch on endpoints', () => {
    const objects = objectsOf(overlay);
    const pod = podSpecOf(workloadOf(objects));
    expect(pod.automountServiceAccountToken).toBe(true);
    const account = only(objects, 'ServiceAccount', pod.serviceAccountName as string);
    const binding = only(objects, 'RoleBinding');
    expect(binding.apiVersion).toBe('rbac.authorization.k8s.io/v1');
    expect((binding as any).subjects).toEqual([{ kind: 'ServiceAccount', name: account.metadata.name, namespace: `emqx-${overlay}` }]);
    const role = only(objects, 'Role', (binding as any).roleRef.name);
    expect(role.apiVersion).toBe('rbac.authorization.k8s.io/v1');
    expect((role as any).rules).toEqual([{ apiGroups: [''], resources: ['endpoints'], verbs: ['get', 'list', 'watch'] }]);
  });

  it("names each node exactly as discovery names it for its peers", () => {
    const objects = objectsOf(overlay);
    const config = configEnv(objects);
    for (const ordinal of [0, 1, 2]) {
      const pod = { name: `emqx-${ordinal}`, namespace: `emqx-${overlay}`, ip: `10.0.0.${ordinal + 10}` };
      expect(effectiveEnv(objects, pod).EMQX_NODE__NAME).toBe(peerNameSeenByDiscovery(config, pod));
    }
  });
});

describe('overlay single-node', () => {
  const objects = () => objectsOf('single-node');

  it('runs one unclustered broker (singleton discovery) with no Kubernetes API settings left over', () => {
    expect(spec(workloadOf(objects())).replicas).toBe(1);
    const config = configEnv(objects());
    expect(config.EMQX_CLUSTER__DISCOVERY_STRATEGY).toBe('singleton');
    // Only what the node name is built from stays; nothing that would make EMQX call the API.
    expect(Object.keys(config).filter((k) => k.startsWith('EMQX_CLUSTER__K8S__')).sort()).toEqual(['EMQX_CLUSTER__K8S__SERVICE_NAME', 'EMQX_CLUSTER__K8S__SUFFIX']);
  });

  it('has no RBAC and mounts no API token', () => {
    for (const kind of ['ServiceAccount', 'Role', 'RoleBinding']) expect(find(objects(), kind), kind).toEqual([]);
    const pod = podSpecOf(workloadOf(objects()));
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBeUndefined();
  });

  it('has no PersistentVolumeClaim', () => {
    expect(spec(workloadOf(objects())).volumeClaimTemplates).toBeUndefined();
  });

  it('still gets a stable, resolvable node name', () => {
    expect(effectiveEnv(objects(), { name: 'emqx-0', namespace: 'emqx-single-node', ip: '10.0.0.9' }).EMQX_NODE__NAME).toBe(
      'emqx@emqx-0.emqx-headless.emqx-single-node.svc.cluster.local',
    );
  });
});

describe('overlay deployment-ip', () => {
  const objects = () => objectsOf('deployment-ip');

  it('is a Deployment clustering by pod IP, with no StatefulSet left', () => {
    expect(workloadOf(objects()).kind).toBe('Deployment');
    expect(find(objects(), 'StatefulSet')).toEqual([]);
    expect(configEnv(objects()).EMQX_CLUSTER__K8S__ADDRESS_TYPE).toBe('ip');
    expect(effectiveEnv(objects(), { name: 'emqx-7d9c-x2x', namespace: 'emqx-deployment-ip', ip: '10.1.2.3' }).EMQX_NODE__NAME).toBe('emqx@10.1.2.3');
  });

  it('forgets dead (IP-named) nodes after minutes, not the default 24 hours', () => {
    expect(configEnv(objects()).EMQX_CLUSTER__AUTOCLEAN).toMatch(/^\d+m$/);
    expect(Number.parseInt(configEnv(objects()).EMQX_CLUSTER__AUTOCLEAN!, 10)).toBeLessThanOrEqual(60);
  });

  it('keeps data ephemeral: no claim, an emptyDir at /opt/emqx/data', () => {
    const pod = podSpecOf(workloadOf(objects()));
    expect(pod.volumes?.find((v) => v.name === 'emqx-data')).toEqual({ name: 'emqx-data', emptyDir: {} });
  });

  it("runs the base StatefulSet's pod template, changed only in EMQX_HOST (no second copy to drift)", async () => {
    const base = (await renderRepoOverlays([{ name: 'statefulset-hostname-pvc', dir: 'overlays/statefulset-hostname-pvc' }])).get('statefulset-hostname-pvc')!;
    const strip = (objs: K8sObject[]) => {
      const template = structuredClone(spec(workloadOf(objs)).template);
      const container = template.spec.containers[0];
      container.env = container.env.filter((e: { name: string }) => e.name !== 'EMQX_HOST');
      container.envFrom = undefined; // the ConfigMap's hash differs by design
      template.spec.volumes = template.spec.volumes.filter((v: { name: string }) => v.name !== 'emqx-data');
      return template;
    };
    expect(strip(objects())).toEqual(strip(base));
  });
});

describe('overlay statefulset-hostname-pvc', () => {
  const objects = () => objectsOf('statefulset-hostname-pvc');

  it('is a StatefulSet named through the headless discovery Service, started in parallel', () => {
    const workload = workloadOf(objects());
    expect(workload.kind).toBe('StatefulSet');
    expect(spec(workload).serviceName).toBe(configEnv(objects()).EMQX_CLUSTER__K8S__SERVICE_NAME);
    expect(spec(workload).podManagementPolicy).toBe('Parallel');
    expect(configEnv(objects()).EMQX_CLUSTER__K8S__ADDRESS_TYPE).toBe('hostname');
    expect(effectiveEnv(objects(), { name: 'emqx-2', namespace: 'emqx-statefulset-hostname-pvc', ip: '10.0.0.3' }).EMQX_NODE__NAME).toBe(
      'emqx@emqx-2.emqx-headless.emqx-statefulset-hostname-pvc.svc.cluster.local',
    );
  });

  it('gives each pod a claim mounted at the whole /opt/emqx/data, writable through fsGroup 1000', () => {
    const workload = workloadOf(objects());
    const claims = spec(workload).volumeClaimTemplates as { metadata: { name: string; labels?: unknown }; spec: any }[];
    expect(claims.map((c) => c.metadata.name)).toEqual(['emqx-data']);
    expect(claims[0]!.spec.resources.requests.storage).toMatch(/^\d+Gi$/);
    const mount = emqxContainer(objects()).volumeMounts?.find((m) => m.name === 'emqx-data');
    expect(mount).toEqual({ name: 'emqx-data', mountPath: '/opt/emqx/data' });
    expect(podSpecOf(workload).volumes?.some((v) => v.name === 'emqx-data')).toBe(false);
    expect(podSpecOf(workload).securityContext).toMatchObject({ fsGroup: 1000 });
  });

  it('keeps volumeClaimTemplates free of labels that change (a version label would forbid upgrades)', () => {
    const claims = spec(workloadOf(objects())).volumeClaimTemplates as { metadata: { labels?: Record<string, string> } }[];
    for (const claim of claims) expect(claim.metadata.labels?.['app.kubernetes.io/version']).toBeUndefined();
  });

  it('retains claims when pods are scaled down or the StatefulSet is deleted', () => {
    expect(spec(workloadOf(objects())).persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
  });

  it('does not use the storage-class annotation of the article', () => {
    const claims = spec(workloadOf(objects())).volumeClaimTemplates as { metadata: { annotations?: Record<string, string> } }[];
    for (const claim of claims) expect(Object.keys(claim.metadata.annotations ?? {})).not.toContain('volume.alpha.kubernetes.io/storage-class');
  });
});
