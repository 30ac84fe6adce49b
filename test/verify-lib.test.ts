// verify's pure parts, no control plane: EMQX's peer-name rules, the waves that keep targets apart,
// the namespace labels read from the GitOps folders, where a rejection points, the rule docs, the
// controller list, the DNS answer computed from EndpointSlices, and the Endpoints API finding.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { renderOverlays } from '../scripts/lib/model/render.ts';
import { parseObjects } from '../scripts/lib/model/render-stream.ts';
import { hasPath, rejectedField } from '../scripts/lib/verify/apply.ts';
import { serverMessage } from '../scripts/lib/tools/kubectl.ts';
import { controllerRuns, DEFAULT_CONTROLLERS, WITHOUT_ENDPOINTS_CONTROLLERS } from '../scripts/lib/tools/control-plane/controllers.ts';
import { emqxSettings } from '../scripts/lib/model/emqx.ts';
import { emqxWorkloads } from '../scripts/lib/model/workloads.ts';
import { k8sPeerName, nodeNameOf } from '../scripts/lib/verify/discovery.ts';
import { addressesFromEndpoints, addressesFromSlices, addressRecords, endpointHostname, notReadyInSlices, recordDifference, servesPod, srvTargets, type LiveEndpoints, type LiveEndpointSlice } from '../scripts/lib/verify/dns.ts';
import { deprecatedEndpointsApiFinding, type EndpointsApiObservation } from '../scripts/lib/verify/endpoints-api.ts';
import { renderRepoOverlays } from './helpers/render.ts';
import { asCommandError } from './helpers/user-error.ts';
import { namespaceLabels } from '../scripts/lib/verify/namespaces.ts';
import { zonesRequired } from '../scripts/lib/verify/nodes.ts';
import { verifyRuleList } from '../scripts/lib/verify/rules.ts';
import { LABEL_SOURCES, waitMsFromEnv, waves } from '../scripts/lib/verify/run.ts';

describe('EMQX k8s discovery peer names (ekka_cluster_k8s)', () => {
  const a = { ip: '10.0.0.7', hostname: 'emqx-1' };
  it('follows address_type and the suffix', () => {
    expect(k8sPeerName('emqx', a, 'ip', 'emqx-headless', 'ns', 'svc.cluster.local')).toBe('emqx@10.0.0.7');
    expect(k8sPeerName('emqx', a, 'hostname', 'emqx-headless', 'ns', 'svc.cluster.local')).toBe('emqx@emqx-1.emqx-headless.ns.svc.cluster.local');
    expect(k8sPeerName('emqx', a, 'dns', 'emqx-headless', 'ns', 'pod.cluster.local')).toBe('emqx@10-0-0-7.ns.pod.cluster.local');
    expect(k8sPeerName('emqx', a, 'hostname', 'emqx-headless', 'ns', '')).toBe('emqx@emqx-1');
  });
  it('takes the node name from EMQX_NODE__NAME, else EMQX_NAME@EMQX_HOST', () => {
    expect(nodeNameOf(new Map([['EMQX_NODE__NAME', 'a@b']]))).toBe('a@b');
    expect(nodeNameOf(new Map([['EMQX_HOST', 'h']]))).toBe('emqx@h');
    expect(nodeNameOf(new Map())).toBeUndefined();
  });
});

describe('waves', () => {
  it('never puts two targets sharing a namespace in one wave, and keeps their order', () => {
    const t = (name: string, ...namespaces: string[]) => ({ name, namespaces });
    const out = waves([t('single-node', 'emqx-single-node'), t('production', 'emqx-production'), t('store-1', 'emqx-single-node'), t('store-2', 'emqx-single-node'), t('eu', 'emqx-production')]);
    expect(out.map((w) => w.map((x) => x.name))).toEqual([['single-node', 'production'], ['store-1', 'eu'], ['store-2']]);
  });
});

describe('namespace labels from the GitOps folders', () => {
  it('gives every overlay namespace Pod Security restricted, enforced, as gitops/flux and gitops/argocd do', async () => {
    const { rendered } = await renderOverlays(await findKustomize(), LABEL_SOURCES);
    expect(LABEL_SOURCES.map((s) => s.name)).toEqual(['gitops/argocd', 'gitops/flux']);
    const labels = namespaceLabels(rendered.flatMap((r) => parseObjects(r.yaml)));
    expect(labels.labelsFor('emqx-production')).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted', 'app.kubernetes.io/part-of': 'emqx' });
    expect(labels.labelsFor('verify-some-test')).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
  });
});

describe('where a rejection points', () => {
  it('takes the field and the quoted value from validation and server-side apply messages', () => {
    expect(rejectedField('The StatefulSet "emqx" is invalid: spec.template.spec.containers[0].ports[5].name: Duplicate value: "mqtt"')).toEqual({ path: 'spec.template.spec.containers[0].ports[5].name', value: 'mqtt' });
    expect(rejectedField('Error from server: failed to create typed patch object (ns/emqx; /v1, Kind=Service): .spec.ports: duplicate entries for key [port=1883,protocol="TCP"]')).toEqual({ path: 'spec.ports' });
    expect(rejectedField('Error from server (Invalid): ConfigMap "EmqxExtra" is invalid: metadata.name: Invalid value: "EmqxExtra": a lowercase RFC 1123 subdomain')).toEqual({ path: 'metadata.name', value: 'EmqxExtra' });
  });
  it('finds the object a warning is about by the field it names', () => {
    const sts = { spec: { template: { metadata: { annotations: { 'scheduler.alpha.kubernetes.io/critical-pod': '' } }, spec: { containers: [{ name: 'emqx', ports: [{}] }] } } } };
    expect(hasPath(sts, 'spec.template.metadata.annotations[scheduler.alpha.kubernetes.io/critical-pod]')).toBe(true);
    expect(hasPath(sts, 'spec.template.spec.containers[name="emqx"].ports[0]')).toBe(true);
    expect(hasPath(sts, 'spec.template.spec.containers[1]')).toBe(false);
  });
  it("quotes the server without kubectl's warnings and STDIN preamble", () => {
    expect(serverMessage('Warning: x\nError from server (Invalid): error when creating "STDIN": Role "r" is invalid: rules[0].verbs: Required value\n')).toBe('Role "r" is invalid: rules[0].verbs: Required value');
  });
});

describe('zones a render requires', () => {
  it('reads required node affinity on topology.kubernetes.io/zone', () => {
    const sts = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'emqx', namespace: 'n' }, spec: { template: { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['eu-b', 'eu-a'] }] }] } } } } } } };
    expect(zonesRequired([sts])).toEqual(['eu-a', 'eu-b']);
  });
});

describe('VERIFY_WAIT_SECONDS', () => {
  it('defaults to 120 s and refuses nonsense', () => {
    expect(waitMsFromEnv({})).toBe(120_000);
    expect(waitMsFromEnv({ VERIFY_WAIT_SECONDS: '5' })).toBe(5_000);
    expect(() => waitMsFromEnv({ VERIFY_WAIT_SECONDS: '-1' })).toThrow(/VERIFY_WAIT_SECONDS must be a number of seconds greater than 0/);
  });

  // Was a run of `npm run verify` in test/verify-command.test.ts: the command reads it before anything else it checks.
  it('a bad wait is a usage error, exit 2, that quotes the value', async () => {
    const wait = await asCommandError(() => waitMsFromEnv({ VERIFY_WAIT_SECONDS: 'soon' }));
    expect(wait.exitCode).toBe(2);
    expect(wait.stderr).toMatch(/VERIFY_WAIT_SECONDS must be a number of seconds greater than 0, not "soon"/);
  });
});

describe('docs/verify.md', () => {
  it('lists exactly the rules verify reports, with their severity, description and fix', () => {
    const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'verify.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([^`]+)` \| (error|warning) \| (.+) \| (.+) \|$/gm)].map((m) => ({ id: m[1], severity: m[2], description: m[3], fix: m[4] }));
    expect(rows).toEqual(verifyRuleList().map((r) => ({ id: r.id, severity: r.severity, description: r.description, fix: r.fix })));
  });
});

describe("kube-controller-manager's --controllers list", () => {
  it('reads it as kube-controller-manager does: the first entry naming a controller decides, then `*`', () => {
    expect(controllerRuns('endpoints-controller', DEFAULT_CONTROLLERS)).toBe(true);
    expect(WITHOUT_ENDPOINTS_CONTROLLERS).toEqual(['*', '-endpoints-controller', '-endpointslice-mirroring-controller']);
    expect(controllerRuns('endpoints-controller', WITHOUT_ENDPOINTS_CONTROLLERS)).toBe(false);
    expect(controllerRuns('endpointslice-mirroring-controller', WITHOUT_ENDPOINTS_CONTROLLERS)).toBe(false);
    // What cluster DNS and kube-proxy read stays on, and so does everything else.
    expect(controllerRuns('endpointslice-controller', WITHOUT_ENDPOINTS_CONTROLLERS)).toBe(true);
    expect(controllerRuns('statefulset-controller', WITHOUT_ENDPOINTS_CONTROLLERS)).toBe(true);
    expect(controllerRuns('endpoints-controller', [])).toBe(false);
    expect(controllerRuns('endpoints-controller', ['endpoints-controller', '-endpoints-controller'])).toBe(true);
    expect(controllerRuns('bootstrap-signer-controller', ['*'], ['bootstrap-signer-controller'])).toBe(false);
  });
});

// The headless Service emqx-headless of three StatefulSet pods, emqx-1 not Ready yet, in the
// EndpointSlices the EndpointSlice controller writes (k8s.io/endpointslice podToEndpoint: ready =
// publishNotReadyAddresses || (serving && !terminating), serving = the pod's readiness).
const NS = 'emqx-production';
const pod = (i: number, ready: boolean, publishNotReady: boolean) => ({
  addresses: [`10.0.0.${10 + i}`],
  conditions: { ready: publishNotReady || ready, serving: ready, terminating: false },
  hostname: `emqx-${i}`,
  targetRef: { kind: 'Pod', name: `emqx-${i}` },
});
const slicesFor = (publishNotReady: boolean): LiveEndpointSlice[] => [
  { metadata: { name: 'emqx-headless-abcde', namespace: NS, labels: { 'kubernetes.io/service-name': 'emqx-headless' } }, addressType: 'IPv4', endpoints: [pod(0, true, publishNotReady), pod(1, false, publishNotReady)] },
  { metadata: { name: 'emqx-headless-fghij', namespace: NS, labels: { 'kubernetes.io/service-name': 'emqx-headless' } }, addressType: 'IPv4', endpoints: [pod(2, true, publishNotReady), pod(0, true, publishNotReady)] },
  // The client Service's slice lists the same pods: not this Service's records.
  { metadata: { name: 'emqx-klmno', namespace: NS, labels: { 'kubernetes.io/service-name': 'emqx' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.99'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'other' } }] },
];
const target = (i: number) => `emqx-${i}.emqx-headless.${NS}.svc.cluster.local`;

describe('the DNS answer for a headless Service, from its EndpointSlices as CoreDNS computes it', () => {
  it('serves a not-ready pod of a publishNotReadyAddresses Service (the controller marks it ready), once per target', () => {
    const served = addressesFromSlices(slicesFor(true), 'emqx-headless', NS);
    expect(srvTargets(served, 'emqx-headless', NS, 'cluster.local')).toEqual([target(0), target(1), target(2)]);
    expect(servesPod(served, { name: 'emqx-1' })).toBe(true);
    expect(servesPod(served, { name: 'other', ip: '10.0.0.99' })).toBe(false);
    expect(notReadyInSlices(slicesFor(true), 'emqx-headless', NS)).toEqual([]);
  });

  it('leaves a not-ready pod out otherwise (conditions.ready false), and says it is listed not ready', () => {
    const served = addressesFromSlices(slicesFor(false), 'emqx-headless', NS);
    expect(srvTargets(served, 'emqx-headless', NS, 'cluster.local')).toEqual([target(0), target(2)]);
    expect(servesPod(served, { name: 'emqx-1', ip: '10.0.0.11' })).toBe(false);
    expect(notReadyInSlices(slicesFor(false), 'emqx-headless', NS).map((a) => a.pod)).toEqual(['emqx-1']);
    expect(addressRecords(served)).toEqual(['10.0.0.10', '10.0.0.12']);
  });

  it('counts an unknown ready condition as ready, names a pod without hostname by its dashed IP, and skips other namespaces', () => {
    const slices: LiveEndpointSlice[] = [
      { metadata: { namespace: NS, labels: { 'kubernetes.io/service-name': 'emqx-headless' } }, endpoints: [{ addresses: ['10.0.0.7'], conditions: {} }, { addresses: ['fd00::1:0'] }] },
      { metadata: { namespace: 'elsewhere', labels: { 'kubernetes.io/service-name': 'emqx-headless' } }, endpoints: [{ addresses: ['10.9.9.9'] }] },
      { metadata: { namespace: NS, labels: { 'kubernetes.io/service-name': 'emqx-headless' } }, endpoints: null },
    ];
    expect(srvTargets(addressesFromSlices(slices, 'emqx-headless', NS), 'emqx-headless', NS, 'example.org')).toEqual([`10-0-0-7.emqx-headless.${NS}.svc.example.org`, `fd00--1-0.emqx-headless.${NS}.svc.example.org`]);
    expect(endpointHostname({ ip: 'fd00::' })).toBe('fd00--0');
  });

  it('gives the same answer as the Endpoints the Endpoints controller writes for the same pods (notReadyAddresses never served)', () => {
    const endpoints: LiveEndpoints = {
      subsets: [
        {
          addresses: [0, 2].map((i) => ({ ip: `10.0.0.${10 + i}`, hostname: `emqx-${i}`, targetRef: { kind: 'Pod', name: `emqx-${i}` } })),
          notReadyAddresses: [{ ip: '10.0.0.11', hostname: 'emqx-1', targetRef: { kind: 'Pod', name: 'emqx-1' } }],
        },
      ],
    };
    const fromEndpoints = srvTargets(addressesFromEndpoints(endpoints), 'emqx-headless', NS, 'cluster.local');
    const fromSlices = srvTargets(addressesFromSlices(slicesFor(false), 'emqx-headless', NS), 'emqx-headless', NS, 'cluster.local');
    expect(recordDifference(fromSlices, fromEndpoints)).toEqual({ onlySlices: [], onlyEndpoints: [] });
    // With publishNotReadyAddresses the slices serve emqx-1, which these Endpoints do not.
    const withPublish = srvTargets(addressesFromSlices(slicesFor(true), 'emqx-headless', NS), 'emqx-headless', NS, 'cluster.local');
    expect(recordDifference(withPublish, fromEndpoints)).toEqual({ onlySlices: [target(1)], onlyEndpoints: [] });
    expect(addressesFromEndpoints(undefined)).toEqual([]);
  });
});

describe('verify/deprecated-endpoints-api', () => {
  const seen = (over: Partial<EndpointsApiObservation> = {}): EndpointsApiObservation => ({
    strategy: 'k8s',
    endpointsFilled: false,
    workload: { kind: 'StatefulSet', name: 'emqx', namespace: 'emqx-statefulset-hostname-pvc' },
    namespace: 'emqx-statefulset-hostname-pvc',
    service: 'emqx-headless',
    status: 404,
    addresses: 0,
    pods: 3,
    podsInSlices: 3,
    ...over,
  });

  it('names what EMQX reads, what the cluster no longer fills, and the fix: discovery-dns', () => {
    const f = deprecatedEndpointsApiFinding(seen())!;
    expect(f.rule.id).toBe('verify/deprecated-endpoints-api');
    expect(f.rule.severity).toBe('error');
    expect(f.object).toEqual({ kind: 'StatefulSet', name: 'emqx', namespace: 'emqx-statefulset-hostname-pvc' });
    expect(f.message).toMatch(/reads only the deprecated v1 Endpoints API: GET \/api\/v1\/namespaces\/emqx-statefulset-hostname-pvc\/endpoints\/emqx-headless and its subsets\[\]\.addresses/);
    expect(f.message).toMatch(/without the endpoints-controller and the endpointslice-mirroring-controller \(KEP-4974\), so nothing fills that object: EMQX's request answered HTTP 404 \(no Endpoints object\), while the EndpointSlices of Service emqx-headless list 3 of the 3 pods/);
    expect(f.message).toMatch(/cluster of one/);
    expect(f.rule.fix).toMatch(/discovery-dns component \(components\/discovery-dns, as overlays\/production does\)/);
    expect(deprecatedEndpointsApiFinding(seen({ status: 200, addresses: 2 }))!.message).toMatch(/answered 200 with 2 address\(es\) that nothing keeps up to date \(stale\)/);
  });

  it('tells a Deployment that discovery-dns needs a StatefulSet', () => {
    const f = deprecatedEndpointsApiFinding(seen({ workload: { kind: 'Deployment', name: 'emqx', namespace: 'emqx-deployment-ip' } }))!;
    expect(f.message).toMatch(/discovery-dns needs a StatefulSet .*overlays\/production, or statefulset-hostname-pvc with components\/discovery-dns\) instead of this Deployment/);
  });

  it('is not reported while the Endpoints controller runs, nor for DNS or singleton discovery', () => {
    expect(deprecatedEndpointsApiFinding(seen({ endpointsFilled: true }))).toBeUndefined();
    expect(deprecatedEndpointsApiFinding(seen({ strategy: 'dns' }))).toBeUndefined();
    expect(deprecatedEndpointsApiFinding(seen({ strategy: 'singleton' }))).toBeUndefined();
  });

  it('on the real overlays: found for deployment-ip and statefulset-hostname-pvc, absent for production and single-node', async () => {
    const overlays = await renderRepoOverlays();
    const found = [...overlays].flatMap(([name, objects]) =>
      emqxWorkloads(objects).flatMap((w) => {
        const strategy = emqxSettings(w, objects).value('cluster.discovery_strategy') ?? 'manual';
        const f = deprecatedEndpointsApiFinding(seen({ strategy, workload: { kind: w.object.kind, name: w.object.metadata.name } }));
        return f ? [`${name} ${w.object.kind} ${f.rule.id}`] : [];
      }),
    );
    expect(found.sort()).toEqual(['deployment-ip Deployment verify/deprecated-endpoints-api', 'statefulset-hostname-pvc StatefulSet verify/deprecated-endpoints-api']);
    expect(overlays.has('production')).toBe(true);
  });
});
