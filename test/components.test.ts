// Every overlay x component combination that docs/components.md calls supported renders with the
// real kustomize, adds no validate finding to its overlay, and does what the component promises.
// The one unsupported combination (DNS discovery on a Deployment) fails validate saying why.
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseDocument, stringify } from 'yaml';
import { findKustomize, kustomizeBuild, type Kustomize } from '../scripts/lib/tools/kustomize.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { RULES } from '../scripts/lib/validate/rules/index.ts';
import type { Finding, RuleContext } from '../scripts/lib/validate/types.ts';
import { emqxContainer, effectiveEnv, podSpecOf, workloadOf } from './helpers/pod.ts';
import { find, only, parseObjects } from './helpers/render.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';

const OVERLAYS = ['single-node', 'deployment-ip', 'statefulset-hostname-pvc'] as const;
/** Components that fit every overlay (docs/components.md). */
const EVERYWHERE = ['tls', 'monitoring', 'loadbalancer', 'external-secrets', 'licence', 'zone-spread'] as const;
/** overlay -> components: the supported matrix. */
const SUPPORTED: ReadonlyArray<readonly [string, readonly string[]]> = [
  ...OVERLAYS.flatMap((o) => EVERYWHERE.map((c) => [o, [c]] as const)),
  ['statefulset-hostname-pvc', ['discovery-dns']],
  ['statefulset-hostname-pvc', ['discovery-dns', 'tls', 'monitoring']],
];

let kustomize: Kustomize;
let workDir: string;
let externalSecrets: Map<string, Set<string>>;
const renders = new Map<string, K8sObject[]>();
const key = (overlay: string, components: readonly string[]) => `${overlay}+${components.join('+')}`;


/**
 * A copy of overlays/<overlay> in a temp dir with the components added, its paths pointing back at
 * the repository's base/ and components/ (kustomize takes relative paths only).
 */
async function renderCombination(overlay: string, components: readonly string[], options: { tlsNames?: boolean } = {}): Promise<{ ok: true; objects: K8sObject[] } | { ok: false; message: string }> {
  const dir = path.join(workDir, key(overlay, components) + (options.tlsNames === false ? '-no-names' : ''), 'overlays', overlay);
  await cp(path.join(REPO_ROOT, 'overlays', overlay), dir, { recursive: true });
  const file = path.join(dir, 'kustomization.yaml');
  const doc = parseDocument(await readFile(file, 'utf8'));
  const toRepo = (p: string) => path.relative(dir, path.join(REPO_ROOT, 'overlays', overlay, p));
  doc.set('resources', ((doc.toJS().resources ?? []) as string[]).map((r) => (r.startsWith('..') ? toRepo(r) : r)));
  const existing = ((doc.toJS().components ?? []) as string[]).map(toRepo);
  // Before the overlay's own: deployment-ip's statefulset-to-deployment converts the StatefulSet the components patch.
  doc.set('components', [...components.map((c) => toRepo(`../../components/${c}`)), ...existing]);
  // The one line an overlay adds with tls, as overlays/production does.
  if (components.includes('tls') && options.tlsNames !== false) doc.set('transformers', [...((doc.toJS().transformers ?? []) as string[]).map((t) => (t.startsWith('..') ? toRepo(t) : t)), toRepo('../../components/tls/certificate-names')]);
  await writeFile(file, stringify(doc));
  const result = await kustomizeBuild(kustomize, dir);
  return result.ok ? { ok: true, objects: parseObjects(result.yaml) } : result;
}

function validate(overlay: string, objects: readonly K8sObject[]): Omit<Finding, 'file'>[] {
  const context: RuleContext = { overlay, objects, externalSecrets };
  return RULES.flatMap((rule) => rule.check(context).map(({ object: _object, locate: _locate, ...f }) => ({ ...f, overlay })));
}

/** Findings of the combination that the bare overlay does not have: what the component brought. */
function addedFindings(overlay: string, objects: readonly K8sObject[]) {
  const describe = (f: Omit<Finding, 'file'>) => `${f.rule} ${f.kind}/${f.name} ${f.path ?? ''}`;
  const before = new Set(validate(overlay, renders.get(key(overlay, []))!).map(describe));
  return validate(overlay, objects).filter((f) => !before.has(describe(f)));
}

function rendered(overlay: string, components: readonly string[]): K8sObject[] {
  const objects = renders.get(key(overlay, components));
  if (!objects) throw new Error(`${key(overlay, components)} was not rendered`);
  return objects;
}

beforeAll(async () => {
  kustomize = await findKustomize();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'emqx-components-'));
  const config = parse(await readFile(path.join(REPO_ROOT, 'validate.config.yaml'), 'utf8')) as { externalSecrets?: Array<{ name: string; keys: string[] }> };
  externalSecrets = new Map((config.externalSecrets ?? []).map((s) => [s.name, new Set(s.keys)]));
  const jobs: Array<readonly [string, readonly string[]]> = [...OVERLAYS.map((o) => [o, []] as const), ...SUPPORTED];
  await Promise.all(
    jobs.map(async ([overlay, components]) => {
      const result = await renderCombination(overlay, components);
      if (!result.ok) throw new Error(`${key(overlay, components)}: ${result.message}`);
      renders.set(key(overlay, components), result.objects);
    }),
  );
  const production = await kustomizeBuild(kustomize, path.join(REPO_ROOT, 'overlays/production'));
  if (!production.ok) throw new Error(production.message);
  renders.set('production', parseObjects(production.yaml));
}, 120_000);

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('every supported overlay x component combination', () => {
  it.each(SUPPORTED.map(([o, c]) => [o, c.join(' + ')] as const))('%s + %s validates without new findings', (overlay, components) => {
    expect(addedFindings(overlay, rendered(overlay, components.split(' + ')))).toEqual([]);
  });

  it('the production overlay validates clean', () => {
    expect(validate('production', renders.get('production')!).filter((f) => f.severity === 'error')).toEqual([]);
  });
});

describe('discovery-dns', () => {
  for (const name of ['statefulset-hostname-pvc+discovery-dns', 'production']) {
    it(`${name}: cluster.dns.name is the headless Service's FQDN and the node host is <pod>.<that name>`, () => {
      const objects = renders.get(name)!;
      const namespace = workloadOf(objects).metadata.namespace!;
      const env = effectiveEnv(objects, { name: 'emqx-1', namespace, ip: '10.0.0.7' });
      const headless = only(objects, 'Service', (workloadOf(objects).spec as { serviceName: string }).serviceName);
      expect((headless.spec as { clusterIP: string }).clusterIP).toBe('None');
      expect(env.EMQX_CLUSTER__DISCOVERY_STRATEGY).toBe('dns');
      expect(env.EMQX_CLUSTER__DNS__RECORD_TYPE).toBe('srv');
      expect(env.EMQX_CLUSTER__DNS__NAME).toBe(`${headless.metadata.name}.${namespace}.svc.cluster.local`);
      // ekka names each SRV peer <name>@<target>; Kubernetes' SRV target for emqx-1 is emqx-1.<FQDN>.
      expect(env.EMQX_NODE__NAME).toBe(`emqx@emqx-1.${env.EMQX_CLUSTER__DNS__NAME}`);
    });

    it(`${name}: no Role, RoleBinding or API token, and no k8s-only settings`, () => {
      const objects = renders.get(name)!;
      expect(find(objects, 'Role')).toEqual([]);
      expect(find(objects, 'RoleBinding')).toEqual([]);
      expect(podSpecOf(workloadOf(objects)).automountServiceAccountToken).toBe(false);
      const env = effectiveEnv(objects, { name: 'emqx-0', namespace: 'x', ip: '10.0.0.1' });
      expect(env).not.toHaveProperty('EMQX_CLUSTER__K8S__APISERVER');
      expect(env).not.toHaveProperty('EMQX_CLUSTER__K8S__ADDRESS_TYPE');
    });
  }

  it('is refused on the Deployment overlay, with the reason', async () => {
    const result = await renderCombination('deployment-ip', ['discovery-dns']);
    expect(result.ok).toBe(true);
    const findings = validate('deployment-ip', (result as { objects: K8sObject[] }).objects).filter((f) => f.rule === 'emqx/dns-discovery-workload');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'error', kind: 'Deployment', name: 'emqx' });
    expect(findings[0]!.message).toMatch(/Deployment: its pods have no stable hostname.*Fix: .*StatefulSet overlay/);
  });
});

describe('tls', () => {
  const combos = [...OVERLAYS.map((o) => key(o, ['tls'])), 'production'];
  it.each(combos)("%s: the Certificate's Secret is mounted read-only where both TLS listeners read", (name) => {
    const objects = renders.get(name)!;
    const cert = only(objects, 'Certificate', 'emqx-tls') as K8sObject & { spec: { secretName: string; issuerRef: { name: string } } };
    const pod = podSpecOf(workloadOf(objects));
    const volume = (pod.volumes ?? []).find((v) => (v.secret as { secretName?: string } | undefined)?.secretName === cert.spec.secretName);
    expect(volume).toBeDefined();
    const mount = emqxContainer(objects).volumeMounts!.find((m) => m.name === volume!.name) as { mountPath: string; readOnly?: boolean };
    expect(mount.readOnly).toBe(true);
    const env = effectiveEnv(objects, { name: 'emqx-0', namespace: 'x', ip: '10.0.0.1' });
    for (const listener of ['SSL', 'WSS']) {
      expect(env[`EMQX_LISTENERS__${listener}__DEFAULT__SSL_OPTIONS__CERTFILE`]).toBe(`${mount.mountPath}/tls.crt`);
      expect(env[`EMQX_LISTENERS__${listener}__DEFAULT__SSL_OPTIONS__KEYFILE`]).toBe(`${mount.mountPath}/tls.key`);
      expect(env[`EMQX_LISTENERS__${listener}__DEFAULT__SSL_OPTIONS__CACERTFILE`]).toBe(`${mount.mountPath}/ca.crt`);
    }
  });

  it.each(combos)('%s: the Certificate names the client Service and every pod hostname in the overlay namespace', (name) => {
    const objects = renders.get(name)!;
    const cert = only(objects, 'Certificate', 'emqx-tls') as K8sObject & { spec: { dnsNames: string[] } };
    const ns = cert.metadata.namespace!;
    expect(cert.spec.dnsNames).toEqual(expect.arrayContaining(['emqx', `emqx.${ns}`, `emqx.${ns}.svc`, `emqx.${ns}.svc.cluster.local`, `*.emqx-headless.${ns}.svc.cluster.local`]));
  });

  it('an overlay without the tls certificate-names transformer fails validate, naming the placeholders', async () => {
    const result = await renderCombination('statefulset-hostname-pvc', ['tls'], { tlsNames: false });
    const findings = validate('statefulset-hostname-pvc', (result as { objects: K8sObject[] }).objects).filter((f) => f.rule === 'emqx/tls-certificate-names');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toMatch(/emqx\.NAMESPACE/);
  });

  it('a listener pointed outside the mount fails validate', () => {
    const objects = structuredClone(rendered('statefulset-hostname-pvc', ['tls']));
    const cm = objects.find((o) => o.kind === 'ConfigMap') as K8sObject & { data: Record<string, string> };
    cm.data.EMQX_LISTENERS__WSS__DEFAULT__SSL_OPTIONS__KEYFILE = '/etc/tls/tls.key';
    const findings = validate('statefulset-hostname-pvc', objects).filter((f) => f.rule === 'emqx/tls-certificate-mount');
    expect(findings.map((f) => f.message)).toEqual([expect.stringMatching(/EMQX_LISTENERS__WSS__DEFAULT__SSL_OPTIONS__KEYFILE reads \/etc\/tls\/tls\.key, but no volume is mounted there/)]);
  });
});

describe('monitoring', () => {
  const combos = [...OVERLAYS.map((o) => key(o, ['monitoring'])), 'production'];
  it.each(combos)('%s: the PodMonitor selects the EMQX pods on a port they expose, with basic auth from a Secret', (name) => {
    const objects = renders.get(name)!;
    const monitor = only(objects, 'PodMonitor', 'emqx') as K8sObject & {
      spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: Array<{ port: string; path: string; basicAuth: { username: { name: string; key: string }; password: { name: string; key: string } } }> };
    };
    const workload = workloadOf(objects) as K8sObject & { spec: { template: { metadata: { labels: Record<string, string> } } } };
    expect(monitor.metadata.namespace).toBe(workload.metadata.namespace);
    expect(workload.spec.template.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    const [endpoint] = monitor.spec.podMetricsEndpoints;
    expect(emqxContainer(objects).ports!.map((p) => p.name)).toContain(endpoint!.port);
    expect(endpoint!.path).toBe('/api/v5/prometheus/stats');
    // EMQX 5.8.9 only asks for credentials when enable_basic_auth is on; the component turns it on.
    const env = effectiveEnv(objects, { name: 'emqx-0', namespace: 'x', ip: '10.0.0.1' });
    expect(env.EMQX_PROMETHEUS__ENABLE_BASIC_AUTH).toBe('true');
    // The key EMQX bootstraps is built from the same Secret keys Prometheus sends.
    const init = (podSpecOf(workload).initContainers as Array<{ name: string; image: string; env: Array<{ name: string; valueFrom: { secretKeyRef: { name: string; key: string } } }>; volumeMounts: Array<{ mountPath: string }> }>).find((c) => c.name === 'metrics-api-key')!;
    expect(init.image).toBe(emqxContainer(objects).image);
    expect(init.env.map((e) => e.valueFrom.secretKeyRef)).toEqual([endpoint!.basicAuth.username, endpoint!.basicAuth.password]);
    expect(env.EMQX_API_KEY__BOOTSTRAP_FILE!.startsWith(`${init.volumeMounts[0]!.mountPath}/`)).toBe(true);
  });

  it('a monitor on a port the pods do not expose fails validate', () => {
    const objects = structuredClone(rendered('statefulset-hostname-pvc', ['monitoring']));
    ((find(objects, 'PodMonitor')[0]!.spec as { podMetricsEndpoints: Array<{ port: string }> }).podMetricsEndpoints[0]!).port = 'metrics';
    const findings = validate('statefulset-hostname-pvc', objects).filter((f) => f.rule === 'emqx/monitor-target');
    expect(findings.map((f) => f.message)).toEqual([expect.stringMatching(/scrapes port "metrics", which the EMQX container does not name/)]);
  });

  it('a monitor without basic auth fails validate while EMQX requires it', () => {
    const objects = structuredClone(rendered('statefulset-hostname-pvc', ['monitoring']));
    delete (find(objects, 'PodMonitor')[0]!.spec as { podMetricsEndpoints: Array<{ basicAuth?: unknown }> }).podMetricsEndpoints[0]!.basicAuth;
    const findings = validate('statefulset-hostname-pvc', objects).filter((f) => f.rule === 'emqx/monitor-target');
    expect(findings.map((f) => f.message)).toEqual([expect.stringMatching(/every scrape gets 401/)]);
  });
});

describe('loadbalancer', () => {
  it.each([...OVERLAYS.map((o) => key(o, ['loadbalancer'])), 'production'])('%s: MQTT, MQTT/TLS, WS, WSS on a LoadBalancer that keeps client addresses, no dashboard', (name) => {
    const objects = renders.get(name)!;
    const svc = only(objects, 'Service', 'emqx-external') as K8sObject & { spec: { type: string; externalTrafficPolicy: string; selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: string }> } };
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.spec.externalTrafficPolicy).toBe('Local');
    expect(svc.spec.ports.map((p) => [p.port, p.targetPort])).toEqual([[1883, 'mqtt'], [8883, 'mqtts'], [8083, 'ws'], [8084, 'wss']]);
    const workload = workloadOf(objects) as K8sObject & { spec: { template: { metadata: { labels: Record<string, string> } } } };
    expect(workload.spec.template.metadata.labels).toMatchObject(svc.spec.selector);
  });
});

describe('external-secrets', () => {
  it.each([...OVERLAYS.map((o) => key(o, ['external-secrets'])), 'production'])("%s: the ExternalSecret's target is the Secret the pods read, with every key they read", (name) => {
    const objects = renders.get(name)!;
    const es = only(objects, 'ExternalSecret', 'emqx-secrets') as K8sObject & { spec: { target: { name: string }; data: Array<{ secretKey: string }>; secretStoreRef: { name: string } } };
    const reads = emqxContainer(objects).env!.filter((e) => e.valueFrom?.secretKeyRef?.name === es.spec.target.name).map((e) => e.valueFrom!.secretKeyRef!.key);
    expect(reads.sort()).toEqual(['dashboard-password', 'node-cookie']);
    expect(es.spec.data.map((d) => d.secretKey).sort()).toEqual(reads);
  });

  it('production: every ExternalSecret reads the one store named in the component', () => {
    const stores = new Set(find(renders.get('production')!, 'ExternalSecret').map((e) => JSON.stringify((e.spec as { secretStoreRef: unknown }).secretStoreRef)));
    expect([...stores]).toEqual([JSON.stringify({ kind: 'ClusterSecretStore', name: 'emqx-secret-store' })]);
  });

  it('an ExternalSecret that misses a key the pods read fails validate', () => {
    const objects = structuredClone(rendered('statefulset-hostname-pvc', ['external-secrets']));
    const spec = find(objects, 'ExternalSecret')[0]!.spec as { data: Array<{ secretKey: string }> };
    spec.data = spec.data.filter((d) => d.secretKey !== 'node-cookie');
    const findings = validate('statefulset-hostname-pvc', objects).filter((f) => f.rule === 'emqx/external-secret-target');
    expect(findings.map((f) => f.message)).toEqual([expect.stringMatching(/produces Secret emqx-secrets without node-cookie/)]);
  });
});

describe('licence', () => {
  const bump = (objects: K8sObject[]) => {
    const copy = structuredClone(objects);
    const c = podSpecOf(workloadOf(copy)).containers.find((x) => x.name === 'emqx')!;
    c.image = 'emqx/emqx:5.10.1';
    return copy;
  };
  it.each(['deployment-ip', 'statefulset-hostname-pvc'])('%s: a 3-node cluster of EMQX 5.10 passes the licence rule only with the component', (overlay) => {
    const licence = (objects: K8sObject[]) => validate(overlay, bump(objects)).filter((f) => f.rule === 'emqx/image');
    expect(licence(rendered(overlay, []))).toHaveLength(1);
    expect(licence(rendered(overlay, ['licence']))).toEqual([]);
    const env = emqxContainer(rendered(overlay, ['licence'])).env!.find((e) => e.name === 'EMQX_LICENSE__KEY')!;
    expect(env.valueFrom?.secretKeyRef).toEqual({ name: 'emqx-license', key: 'license-key' });
  });
});

describe('zone-spread', () => {
  it.each([...OVERLAYS.map((o) => key(o, ['zone-spread'])), 'production'])('%s: spreads over zones and still over nodes', (name) => {
    const spread = podSpecOf(workloadOf(renders.get(name)!)).topologySpreadConstraints as Array<{ topologyKey: string; whenUnsatisfiable: string }>;
    expect(spread.map((c) => c.topologyKey).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
  });
});

describe('dns discovery rule', () => {
  it('a cluster.dns.name outside the pods namespace fails validate', () => {
    const objects = structuredClone(rendered('statefulset-hostname-pvc', ['discovery-dns']));
    const env = podSpecOf(workloadOf(objects)).containers[0]!.env!.find((e) => e.name === 'EMQX_CLUSTER__DNS__NAME')!;
    env.value = 'emqx-headless.default.svc.cluster.local';
    const findings = validate('statefulset-hostname-pvc', objects).filter((f) => f.rule === 'emqx/dns-discovery-name');
    expect(findings.map((f) => f.message)).toEqual([expect.stringMatching(/not the headless Service's FQDN "emqx-headless\.emqx-statefulset-hostname-pvc\./)]);
  });
});

describe('labels', () => {
  /** The image tag base/kustomization.yaml pins: the one source of the version label. */
  async function pinnedTag(): Promise<string> {
    const base = parse(await readFile(path.join(REPO_ROOT, 'base/kustomization.yaml'), 'utf8')) as { images: Array<{ name: string; newTag: string }> };
    return base.images.find((i) => i.name === 'emqx/emqx')!.newTag;
  }
  const names = ['production', ...SUPPORTED.map(([o, c]) => key(o, c))];

  it.each(names)('%s: every object, the components\' included, has name, instance, component, part-of and the image\'s version', async (name) => {
    const tag = await pinnedTag();
    const objects = renders.get(name)!;
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) {
      expect(o.metadata.labels, `${o.kind}/${o.metadata.name}`).toMatchObject({
        'app.kubernetes.io/name': 'emqx',
        'app.kubernetes.io/instance': 'emqx',
        'app.kubernetes.io/component': 'broker',
        'app.kubernetes.io/part-of': 'emqx',
        'app.kubernetes.io/version': tag,
      });
    }
    expect(emqxContainer(objects).image).toBe(`emqx/emqx:${tag}`);
  });

  it('no file under components/ or overlays/production writes a version literal of its own', async () => {
    const files = (await Promise.all(['components', 'overlays/production'].map(async (dir) => (await readdir(path.join(REPO_ROOT, dir), { recursive: true })).map((f) => path.join(dir, f))))).flat().filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(await readFile(path.join(REPO_ROOT, file), 'utf8'), file).not.toContain('app.kubernetes.io/version');
  });
});

describe('external-secrets lifecycle', () => {
  type Lifecycle = { refreshPolicy?: string; refreshInterval?: string; target: { creationPolicy?: string; deletionPolicy?: string } };
  const all = () => [...find(renders.get('production')!, 'ExternalSecret'), ...find(rendered('statefulset-hostname-pvc', ['external-secrets']), 'ExternalSecret')];

  it('every ExternalSecret keeps its Secret when it is pruned (Orphan, Retain) and reads the store only once (CreatedOnce)', () => {
    expect(all().map((e) => e.metadata.name).sort()).toEqual(['emqx-metrics-api-key', 'emqx-secrets', 'emqx-secrets']);
    for (const es of all()) {
      const spec = es.spec as Lifecycle;
      // Owner would set an ownerReference: the Secret, cookie included, would be garbage-collected with the ExternalSecret.
      expect(spec.target.creationPolicy, es.metadata.name).toBe('Orphan');
      expect(spec.target.deletionPolicy, es.metadata.name).toBe('Retain');
      // A periodic refresh would copy a rotated cookie into the Secret, and restarted pods would not join the others.
      expect(spec.refreshPolicy, es.metadata.name).toBe('CreatedOnce');
      expect(spec.refreshInterval, es.metadata.name).toBeUndefined();
    }
  });

  it('the pinned external-secrets.io/v1 CRD accepts those values', async () => {
    const schema = JSON.parse(await readFile(path.join(REPO_ROOT, '.tools/schemas/crds/externalsecret-external-secrets-v1.json'), 'utf8')) as {
      properties: { spec: { properties: { refreshPolicy: { enum: string[] }; target: { properties: { creationPolicy: { enum: string[] }; deletionPolicy: { enum: string[] } } } } } };
    };
    const spec = schema.properties.spec.properties;
    expect(spec.refreshPolicy.enum).toContain('CreatedOnce');
    expect(spec.target.properties.creationPolicy.enum).toContain('Orphan');
    expect(spec.target.properties.deletionPolicy.enum).toContain('Retain');
  });
});

describe('tls certificate usages', () => {
  it('production: an ECDSA key used for server auth and digital signature, not RSA key encipherment', () => {
    const cert = only(renders.get('production')!, 'Certificate', 'emqx-tls') as K8sObject & { spec: { privateKey: { algorithm: string }; usages: string[] } };
    expect(cert.spec.privateKey.algorithm).toBe('ECDSA');
    expect(cert.spec.usages).toEqual(['server auth', 'digital signature']);
  });
});

describe('monitoring: the init container refuses an API key EMQX cannot load', () => {
  type Init = { name: string; command: string[]; volumeMounts: Array<{ mountPath: string }> };
  const init = () => (podSpecOf(workloadOf(renders.get('production')!)).initContainers as Init[]).find((c) => c.name === 'metrics-api-key')!;

  /** Runs the rendered script with sh, writing into a temp dir instead of the pod's volume. */
  async function runInit(apiKey: string, apiSecret: string) {
    const [shell, flag, script] = init().command;
    expect([shell, flag]).toEqual(['/bin/sh', '-c']);
    const mount = init().volumeMounts[0]!.mountPath;
    expect(script).toContain(`${mount}/`);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'emqx-api-key-'));
    try {
      const out = await $({ quiet: true, nothrow: true, env: { ...process.env, API_KEY: apiKey, API_SECRET: apiSecret } })`sh -c ${script!.replaceAll(`${mount}/`, `${dir}/`)}`;
      const file = path.join(dir, 'bootstrap');
      const written = await readFile(file, 'utf8').catch(() => undefined);
      const mode = written === undefined ? undefined : (await stat(file)).mode & 0o777;
      return { exitCode: out.exitCode, stderr: out.stderr, written, mode };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('writes key:secret, readable by its owner only, for plain values', async () => {
    expect(await runInit('abc', 'def-123_x')).toEqual({ exitCode: 0, stderr: '', written: 'abc:def-123_x\n', mode: 0o600 });
  });

  it.each([
    ['api-key', 'k3y:with-colon', 's3cret-value', "contains ':'"],
    ['api-secret', 'k3y-value', 's3cret:with-colon', "contains ':'"],
    ['api-secret', 'k3y-value', 's3cret-value\n', 'contains a line break'],
    ['api-key', '', 's3cret-value', 'is empty'],
  ])('refuses %s %j / %j with a non-zero exit, naming the key and not the value', async (keyName, apiKey, apiSecret, reason) => {
    const out = await runInit(apiKey, apiSecret);
    expect(out.exitCode).toBe(1);
    expect(out.written).toBeUndefined();
    expect(out.stderr).toContain(`key ${keyName} of Secret emqx-metrics-api-key ${reason}`);
    expect(out.stderr).toContain('key:secret[:role]');
    for (const value of [apiKey, apiSecret].filter((v) => v.length > 0)) expect(out.stderr).not.toContain(value.trim());
  });
});
