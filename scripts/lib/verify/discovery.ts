// Discovery, checked the way EMQX 5.8.9 does it (ekka's ekka_cluster_k8s and ekka_cluster_dns):
// - k8s: as the pod's ServiceAccount, GET /api/v1/namespaces/<ns>/endpoints/<service_name>; every
//   `subsets[].addresses[]` becomes a peer name, `<app>@<ip>` (address_type ip),
//   `<app>@<hostname>.<service>.<ns>.<suffix>` (hostname) or `<app>@<a-b-c-d>.<ns>.<suffix>` (dns),
//   where <app> is the part of the node's own name before `@`; an empty suffix gives `<app>@<address>`.
//   On a cluster without the endpoints-controller (KEP-4974) nothing fills that object: one
//   verify/deprecated-endpoints-api finding per workload (endpoints-api.ts) instead.
// - dns with record_type srv: the SRV targets of cluster.dns.name, which for a headless Service
//   `<service>.<ns>.svc.<domain>` are `<hostname>.<service>.<ns>.svc.<domain>` per address, computed
//   from the Service's EndpointSlices as cluster DNS computes them (dns.ts), each becoming
//   `<app>@<target>`; a/aaaa give `<app>@<ip>`. While the endpoints-controller runs, the answer
//   computed from the Endpoints must be the same.
// Each live pod's own EMQX_NODE__NAME, expanded from the live pod spec and ConfigMaps as the kubelet
// expands it, must be one of those names, or the node never joins its peers.
import { controllerRuns, ENDPOINTS_CONTROLLER } from '../tools/control-plane/controllers.ts';
import { waitUntil, WaitTimeout } from '../tools/control-plane/processes.ts';
import type { ControlPlane } from '../tools/control-plane/start.ts';
import { resolveEnv } from '../model/env.ts';
import { asArray, asRecord, asString, type Json, type K8sObject } from '../model/object.ts';
import { isEmqxContainer, type EmqxWorkload } from '../model/workloads.ts';
import { VERIFY_RULES } from './rules.ts';
import type { CheckContext, CheckFinding, ObjectRef } from './checks.ts';
import { getJson, listJson, mountsToken, podField, podsOf, serviceAccountToken, type LivePod } from './live.ts';
import { nodeNameFrom } from '../model/emqx.ts';
import { addressesFromEndpoints, addressesFromSlices, addressRecords, notReadyInSlices, recordDifference, servesPod, SERVICE_NAME_LABEL, srvTargets, type DnsAddress, type EndpointsAddress, type LiveEndpoints, type LiveEndpointSlice } from './dns.ts';
import { deprecatedEndpointsApiFinding } from './endpoints-api.ts';

/** The broker container's environment as the kubelet gives it to this pod. */
export function liveEnv(pod: LivePod, configMaps: readonly K8sObject[]): Map<string, string> {
  const container = asArray(pod.spec.containers).find(isEmqxContainer) ?? asArray(pod.spec.containers)[0] ?? {};
  const resolved = resolveEnv(container, configMaps, pod.metadata.namespace);
  const out = new Map<string, string>();
  for (const [name, v] of resolved.vars) out.set(name, v.value.replace(/⟨([^⟩]+)⟩/g, (m, what: string) => podField(pod, what) ?? m));
  return out;
}

/** EMQX_NODE__NAME, else the image's `<EMQX_NAME>@<EMQX_HOST>`. */
export function nodeNameOf(env: ReadonlyMap<string, string>): string | undefined {
  return nodeNameFrom((name) => env.get(name));
}

/** ekka_cluster_k8s node_name/extract_host. */
export function k8sPeerName(app: string, address: EndpointsAddress, addressType: string, service: string, namespace: string, suffix: string): string {
  const host = addressType === 'hostname' ? (address.hostname ?? '(no hostname)') : addressType === 'dns' ? address.ip.replaceAll('.', '-') : address.ip;
  if (suffix.length > 0 && addressType === 'hostname') return `${app}@${host}.${service}.${namespace}.${suffix}`;
  if (suffix.length > 0 && addressType === 'dns') return `${app}@${host}.${namespace}.${suffix}`;
  return `${app}@${host}`;
}

const addressesOf = (e: LiveEndpoints | undefined) => (e?.subsets ?? []).flatMap((s) => s.addresses ?? []);
const notReadyOf = (e: LiveEndpoints | undefined) => (e?.subsets ?? []).flatMap((s) => s.notReadyAddresses ?? []);
const listed = (pod: LivePod, addresses: readonly EndpointsAddress[]) => addresses.some((a) => a.targetRef?.name === pod.metadata.name || (pod.status?.podIP !== undefined && a.ip === pod.status.podIP));

export async function checkDiscovery(cp: ControlPlane, w: EmqxWorkload, rendered: readonly K8sObject[], ctx: CheckContext): Promise<CheckFinding[]> {
  const ns = w.object.metadata.namespace!;
  const label = `${w.object.kind} ${ns}/${w.object.metadata.name}`;
  const workload: ObjectRef = { kind: w.object.kind, name: w.object.metadata.name, namespace: ns };
  const pods = (await podsOf(cp, ns, asRecord(w.object.spec).selector)).filter((p) => p.metadata.deletionTimestamp === undefined);
  if (pods.length === 0) return [];
  // A list's items carry no kind; the env resolver looks ConfigMaps up by kind and name.
  const configMaps = (await listJson<Json>(cp, `/api/v1/namespaces/${ns}/configmaps`)).map((c) => ({ ...c, apiVersion: 'v1', kind: 'ConfigMap' }) as unknown as K8sObject);
  const envs = new Map(pods.map((p) => [p, liveEnv(p, configMaps)]));
  const first = envs.get(pods[0]!)!;
  const strategy = first.get('EMQX_CLUSTER__DISCOVERY_STRATEGY') ?? 'manual';
  const findings: CheckFinding[] = [];
  const names = new Map(pods.map((p) => [p, nodeNameOf(envs.get(p)!)]));
  const nameFinding = (pod: LivePod, computed: readonly string[], how: string): CheckFinding => ({
    object: workload,
    rule: VERIFY_RULES.discoveryNames,
    path: `${w.templatePath}.spec.containers[${w.containerName}].env[EMQX_NODE__NAME]`,
    locate: ['EMQX_HOST', 'EMQX_NODE__NAME'],
    message: `pod ${pod.metadata.name} runs as ${names.get(pod) ?? '(no EMQX_NODE__NAME)'}, but ${how} gives its peers [${computed.join(', ')}]: it would never be found.`,
  });
  const appOf = (pod: LivePod) => (names.get(pod) ?? 'emqx@').split('@')[0]!;

  const endpointsFilled = controllerRuns(ENDPOINTS_CONTROLLER, cp.controllers);
  const slicesOf = (namespace: string, service: string) =>
    listJson<LiveEndpointSlice>(cp, `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=${encodeURIComponent(`${SERVICE_NAME_LABEL}=${service}`)}`);
  const served = (addresses: readonly DnsAddress[]) => (p: LivePod) => servesPod(addresses, { name: p.metadata.name, ...(p.status?.podIP ? { ip: p.status.podIP } : {}) });

  if (strategy === 'k8s') {
    const service = first.get('EMQX_CLUSTER__K8S__SERVICE_NAME') ?? '';
    const addressType = first.get('EMQX_CLUSTER__K8S__ADDRESS_TYPE') ?? 'ip';
    const namespace = first.get('EMQX_CLUSTER__K8S__NAMESPACE') ?? 'default';
    const suffix = first.get('EMQX_CLUSTER__K8S__SUFFIX') ?? '';
    const pod = pods[0]!;
    const where = { path: `${w.templatePath}.spec.containers[${w.containerName}].env[EMQX_CLUSTER__K8S__SERVICE_NAME]`, locate: 'EMQX_CLUSTER__K8S__SERVICE_NAME' };
    if (!mountsToken(pod)) {
      findings.push({ object: workload, rule: VERIFY_RULES.discoveryEndpoints, path: `${w.templatePath}.spec.automountServiceAccountToken`, locate: 'automountServiceAccountToken', message: `pod ${pod.metadata.name} mounts no ServiceAccount token, so EMQX's k8s discovery calls the API server without credentials and every pod stays a cluster of one.` });
      return findings;
    }
    const token = await serviceAccountToken(cp, pod);
    const answer = await cp.api(`/api/v1/namespaces/${namespace}/endpoints/${service}`, { token });
    const sa = pod.spec.serviceAccountName ?? 'default';
    if (!endpointsFilled) {
      // Nothing writes the object EMQX reads: the one finding, with what the cluster does fill.
      const inSlices = pods.filter(served(addressesFromSlices(await slicesOf(namespace, service), service, namespace))).length;
      const finding = deprecatedEndpointsApiFinding({
        strategy,
        endpointsFilled,
        workload,
        path: `${w.templatePath}.spec.containers[${w.containerName}].env[EMQX_CLUSTER__DISCOVERY_STRATEGY]`,
        locate: ['EMQX_CLUSTER__DISCOVERY_STRATEGY=k8s', 'EMQX_CLUSTER__DISCOVERY_STRATEGY'],
        namespace,
        service,
        status: answer.status,
        addresses: answer.status === 200 ? addressesOf(safeJson(answer.body) as LiveEndpoints).length : 0,
        pods: pods.length,
        podsInSlices: inSlices,
      });
      if (finding) findings.push(finding);
      return findings;
    }
    if (answer.status !== 200) {
      const reason = asString(asRecord(safeJson(answer.body)).message) ?? answer.body.slice(0, 300);
      findings.push({ ...where, object: workload, rule: VERIFY_RULES.discoveryEndpoints, message: `as ServiceAccount ${ns}/${sa}, GET /api/v1/namespaces/${namespace}/endpoints/${service} (EMQX's discovery request) answered HTTP ${answer.status}: ${reason}` });
      return findings;
    }
    const endpoints = safeJson(answer.body) as LiveEndpoints;
    const addresses = addressesOf(endpoints);
    const missing = pods.filter((p) => !listed(p, addresses));
    if (missing.length > 0) {
      const onlyNotReady = missing.filter((p) => listed(p, notReadyOf(endpoints)));
      findings.push({
        ...where,
        object: workload,
        rule: VERIFY_RULES.discoveryEndpoints,
        message: `Endpoints ${namespace}/${service} list ${addresses.length} address(es) but not the pods ${missing.map((p) => p.metadata.name).join(', ')}${onlyNotReady.length ? ` (only under notReadyAddresses, which EMQX does not read: set publishNotReadyAddresses: true on Service ${service})` : ''}.`,
      });
    }
    for (const p of pods) {
      const computed = addresses.map((a) => k8sPeerName(appOf(p), a, addressType, service, namespace, suffix));
      if (!computed.includes(names.get(p) ?? '')) findings.push(nameFinding(p, computed, `k8s discovery (Endpoints ${namespace}/${service}, address_type ${addressType})`));
    }
    if (findings.length === 0) ctx.note(`${label}: k8s discovery as ServiceAccount ${sa}: Endpoints ${service} answers 200, lists all ${pods.length} pods, peer names (address_type ${addressType}) equal every EMQX_NODE__NAME`);
  } else if (strategy === 'dns') {
    const name = first.get('EMQX_CLUSTER__DNS__NAME') ?? '';
    const recordType = first.get('EMQX_CLUSTER__DNS__RECORD_TYPE') ?? 'a';
    const where = { path: `${w.templatePath}.spec.containers[${w.containerName}].env[EMQX_CLUSTER__DNS__NAME]`, locate: 'EMQX_CLUSTER__DNS__NAME' };
    const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.(.+)$/.exec(name);
    const service = m ? rendered.find((o) => o.kind === 'Service' && o.metadata.name === m[1] && o.metadata.namespace === m[2]) : undefined;
    if (!m || !service || asRecord(service.spec).clusterIP !== 'None') {
      findings.push({ ...where, object: workload, rule: VERIFY_RULES.discoveryNames, message: `cluster.dns.name is "${name}", not <service>.<namespace>.svc.<domain> of a headless Service in the render: cluster DNS would publish no records for the pods under it.` });
      return findings;
    }
    const [, svc, svcNs, domain] = m as unknown as [string, string, string, string];
    const records = (addresses: readonly DnsAddress[]) => (recordType === 'srv' ? srvTargets(addresses, svc, svcNs, domain) : addressRecords(addresses));
    // What cluster DNS serves, from the EndpointSlices, and (while the controller runs) what the
    // Endpoints give. The two controllers and the pod just recreated settle within the wait.
    interface Seen { notReady: DnsAddress[]; notServed: LivePod[]; fromSlices: string[]; fromEndpoints?: string[] }
    let seen: Seen = { notReady: [], notServed: pods, fromSlices: [] };
    const look = async (): Promise<true | string> => {
      const slices = await slicesOf(svcNs, svc);
      const servedNow = addressesFromSlices(slices, svc, svcNs);
      const endpoints = endpointsFilled ? await getJson<LiveEndpoints>(cp, `/api/v1/namespaces/${svcNs}/endpoints/${svc}`) : undefined;
      seen = { notReady: notReadyInSlices(slices, svc, svcNs), notServed: pods.filter((p) => !served(servedNow)(p)), fromSlices: records(servedNow), ...(endpointsFilled ? { fromEndpoints: records(addressesFromEndpoints(endpoints)) } : {}) };
      const diff = seen.fromEndpoints ? recordDifference(seen.fromSlices, seen.fromEndpoints) : { onlySlices: [], onlyEndpoints: [] };
      if (seen.notServed.length === 0 && diff.onlySlices.length + diff.onlyEndpoints.length === 0) return true;
      return `${seen.notServed.length} pod(s) not served, ${diff.onlySlices.length + diff.onlyEndpoints.length} record(s) differing from the Endpoints`;
    };
    try {
      await waitUntil(`the DNS answer for ${name} from EndpointSlices`, ctx.waitMs, look, 200);
    } catch (error) {
      if (!(error instanceof WaitTimeout)) throw error;
    }
    if (seen.notServed.length > 0) {
      const notReady = seen.notServed.filter(served(seen.notReady));
      findings.push({
        ...where,
        object: workload,
        rule: VERIFY_RULES.discoveryDns,
        message: `the EndpointSlices of Service ${svcNs}/${svc} (${SERVICE_NAME_LABEL}=${svc}), from which cluster DNS answers, do not serve the pods ${seen.notServed.map((p) => p.metadata.name).join(', ')}${notReady.length ? ` (listed with ready: false, which CoreDNS leaves out: set publishNotReadyAddresses: true on Service ${svc})` : ''}: cluster DNS publishes no record for them.`,
      });
    }
    if (seen.fromEndpoints) {
      const diff = recordDifference(seen.fromSlices, seen.fromEndpoints);
      if (diff.onlySlices.length + diff.onlyEndpoints.length > 0) {
        findings.push({
          ...where,
          object: workload,
          rule: VERIFY_RULES.discoveryDns,
          message: `the ${recordType} answer for ${name} computed from the EndpointSlices of Service ${svc} (what cluster DNS serves) is [${seen.fromSlices.join(', ')}], but its Endpoints give [${seen.fromEndpoints.join(', ')}]${diff.onlySlices.length ? `; only in the EndpointSlices: ${diff.onlySlices.join(', ')}` : ''}${diff.onlyEndpoints.length ? `; only in the Endpoints: ${diff.onlyEndpoints.join(', ')}` : ''}.`,
        });
      }
    }
    for (const p of pods) {
      const computed = seen.fromSlices.map((t) => `${appOf(p)}@${t}`);
      if (!computed.includes(names.get(p) ?? '')) findings.push(nameFinding(p, computed, `DNS discovery (${recordType} records of ${name}, from the EndpointSlices of Service ${svc})`));
    }
    if (findings.length === 0) {
      const endpointsSay = seen.fromEndpoints ? 'the same answer as its Endpoints give' : `no Endpoints object compared (the ${ENDPOINTS_CONTROLLER} does not run), none needed`;
      ctx.note(`${label}: dns discovery (${recordType}): the records of ${name} give all ${pods.length} node names, computed from the EndpointSlices of Service ${svc} as cluster DNS serves them; ${endpointsSay}; no Endpoints API call applies`);
    }
  } else {
    ctx.note(`${label}: discovery strategy ${strategy}: no Endpoints request or peer names to check`);
  }
  return findings;
}

/** The ServiceAccount may read nothing but what discovery needs: no Secrets, no exec. */
export async function checkServiceAccount(cp: ControlPlane, w: EmqxWorkload, ctx: CheckContext): Promise<CheckFinding[]> {
  const ns = w.object.metadata.namespace!;
  const pods = (await podsOf(cp, ns, asRecord(w.object.spec).selector)).filter((p) => p.metadata.deletionTimestamp === undefined);
  const pod = pods[0];
  if (!pod) return [];
  const sa = pod.spec.serviceAccountName ?? 'default';
  const token = await serviceAccountToken(cp, pod);
  const asks = [
    { verb: 'get', resource: 'secrets' },
    { verb: 'list', resource: 'secrets' },
    { verb: 'create', resource: 'pods', subresource: 'exec' },
  ];
  const allowed: string[] = [];
  for (const a of asks) {
    const res = await cp.api('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      method: 'POST',
      token,
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: ns, ...a } } },
    });
    if (res.status !== 201 && res.status !== 200) throw new Error(`SelfSubjectAccessReview as ${ns}/${sa}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    if (asRecord(asRecord(safeJson(res.body)).status).allowed === true) allowed.push(`${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}`);
  }
  // And the real request, as an attacker holding the token would send it.
  const secrets = await cp.api(`/api/v1/namespaces/${ns}/secrets`, { token });
  if (secrets.status !== 403 && !allowed.includes('list secrets')) allowed.push(`list secrets (HTTP ${secrets.status})`);
  if (allowed.length === 0) {
    ctx.note(`${w.object.kind} ${ns}/${w.object.metadata.name}: ServiceAccount ${sa} is denied get/list secrets and create pods/exec (403)`);
    return [];
  }
  return [
    {
      object: { kind: 'ServiceAccount', name: sa, namespace: ns },
      rule: VERIFY_RULES.discoveryRbac,
      message: `ServiceAccount ${ns}/${sa}, which every EMQX pod's token authenticates as, is allowed ${allowed.join(', ')}: whoever reads a pod's token gets the cookie Secret or a shell in every broker.`,
    },
  ];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
