// What cluster DNS answers for a headless Service, computed the way CoreDNS's kubernetes plugin
// does, from EndpointSlices, not from v1 Endpoints (coredns plugin/kubernetes: controller.go watches
// EndpointSlices and indexes each by its `kubernetes.io/service-name` label; object/endpoint.go
// endpointSliceToEndpoints keeps an endpoint unless `conditions.ready` is false, nil counting as
// ready; kubernetes.go endpointHostname names an SRV target by the endpoint's `hostname`, else by
// its IP with `.` (or `:`) turned into `-`).
//
// CoreDNS itself never reads `publishNotReadyAddresses`: the EndpointSlice controller does, and
// writes `ready: true` for every pod of a Service that sets it (k8s.io/endpointslice utils.go
// podToEndpoint: `ready := PublishNotReadyAddresses || (serving && !terminating)`; `serving` keeps the
// pod's own readiness). So a not-ready pod of a publishNotReadyAddresses Service is in the answer,
// and of any other Service it is not. Pure functions: discovery.ts feeds them the live objects.

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface SliceEndpoint {
  readonly addresses?: readonly string[];
  readonly conditions?: { readonly ready?: boolean; readonly serving?: boolean; readonly terminating?: boolean };
  readonly hostname?: string;
  readonly targetRef?: { readonly kind?: string; readonly name?: string };
}

export interface LiveEndpointSlice {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly addressType?: string;
  readonly endpoints?: readonly SliceEndpoint[] | null;
}

export interface EndpointsAddress {
  readonly ip: string;
  readonly hostname?: string;
  readonly targetRef?: { readonly kind?: string; readonly name?: string };
}

export interface LiveEndpoints {
  readonly subsets?: ReadonlyArray<{ readonly addresses?: readonly EndpointsAddress[]; readonly notReadyAddresses?: readonly EndpointsAddress[] }>;
}

/** One address cluster DNS serves for the Service, and the pod behind it. */
export interface DnsAddress {
  readonly ip: string;
  readonly hostname?: string;
  readonly pod?: string;
}

/** The addresses CoreDNS serves for `service` in `namespace` from these EndpointSlices. */
export function addressesFromSlices(slices: readonly LiveEndpointSlice[], service: string, namespace: string): DnsAddress[] {
  return sliceAddresses(slices, service, namespace, (ready) => ready !== false);
}

/** The addresses the slices list with `ready: false`: there, but never in the DNS answer. */
export function notReadyInSlices(slices: readonly LiveEndpointSlice[], service: string, namespace: string): DnsAddress[] {
  return sliceAddresses(slices, service, namespace, (ready) => ready === false);
}

function sliceAddresses(slices: readonly LiveEndpointSlice[], service: string, namespace: string, keep: (ready: boolean | undefined) => boolean): DnsAddress[] {
  const out: DnsAddress[] = [];
  for (const slice of slices) {
    if (slice.metadata?.labels?.[SERVICE_NAME_LABEL] !== service) continue;
    if (slice.metadata.namespace !== undefined && slice.metadata.namespace !== namespace) continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (!keep(endpoint.conditions?.ready)) continue;
      for (const ip of endpoint.addresses ?? []) {
        out.push({ ip, ...(endpoint.hostname ? { hostname: endpoint.hostname } : {}), ...(endpoint.targetRef?.name ? { pod: endpoint.targetRef.name } : {}) });
      }
    }
  }
  return out;
}

/**
 * The addresses of v1 Endpoints as a DNS server that read them served them: `subsets[].addresses`
 * only (`notReadyAddresses` never). The Endpoints controller lists a pod there under the same rule
 * as the EndpointSlice controller's `ready`, so while it runs the two answers agree.
 */
export function addressesFromEndpoints(endpoints: LiveEndpoints | undefined): DnsAddress[] {
  return (endpoints?.subsets ?? []).flatMap((s) =>
    (s.addresses ?? []).map((a) => ({ ip: a.ip, ...(a.hostname ? { hostname: a.hostname } : {}), ...(a.targetRef?.name ? { pod: a.targetRef.name } : {}) })),
  );
}

/** CoreDNS endpointHostname (without `endpoint_pod_names`): the hostname, else the dashed IP. */
export function endpointHostname(address: DnsAddress): string {
  if (address.hostname) return address.hostname;
  if (address.ip.includes('.')) return address.ip.replaceAll('.', '-');
  if (address.ip.includes(':')) {
    const dashed = address.ip.replaceAll(':', '-');
    return dashed.endsWith('-') ? `${dashed}0` : dashed;
  }
  return '';
}

/** The SRV targets of `<service>.<namespace>.svc.<domain>`, sorted, each once. */
export function srvTargets(addresses: readonly DnsAddress[], service: string, namespace: string, domain: string): string[] {
  return [...new Set(addresses.map((a) => `${endpointHostname(a)}.${service}.${namespace}.svc.${domain}`))].sort();
}

/** The A/AAAA answer: the addresses, sorted, each once. */
export function addressRecords(addresses: readonly DnsAddress[]): string[] {
  return [...new Set(addresses.map((a) => a.ip))].sort();
}

/** Whether the pod (by name, else by IP) is among the addresses. */
export function servesPod(addresses: readonly DnsAddress[], pod: { readonly name: string; readonly ip?: string }): boolean {
  return addresses.some((a) => a.pod === pod.name || (pod.ip !== undefined && a.ip === pod.ip));
}

/** What one answer has that the other lacks; both empty when they are the same. */
export function recordDifference(fromSlices: readonly string[], fromEndpoints: readonly string[]): { onlySlices: string[]; onlyEndpoints: string[] } {
  return { onlySlices: fromSlices.filter((r) => !fromEndpoints.includes(r)), onlyEndpoints: fromEndpoints.filter((r) => !fromSlices.includes(r)) };
}
