// A broker that discovers its peers through the v1 Endpoints API, on a cluster that no longer fills
// it (KEP-4974: kube-controller-manager without the endpoints-controller and the
// endpointslice-mirroring-controller). EMQX 5.8.9's k8s discovery (ekka_cluster_k8s) reads only
// `GET /api/v1/namespaces/<ns>/endpoints/<service>` and its `subsets[].addresses`; with nothing
// writing that object it is missing (HTTP 404) or stale, and every broker stays a cluster of one
// with no error anywhere but EMQX's log. DNS discovery is served by cluster DNS from EndpointSlices
// and does not depend on it. Pure: discovery.ts passes what it saw on the control plane.
import { ENDPOINTS_CONTROLLER, ENDPOINTSLICE_MIRRORING_CONTROLLER } from '../tools/control-plane/controllers.ts';
import type { CheckFinding, ObjectRef } from './checks.ts';
import { VERIFY_RULES } from './rules.ts';

/** The discovery strategies that read the Endpoints API (ekka's k8s strategy). */
export function readsEndpointsApi(strategy: string): boolean {
  return strategy === 'k8s';
}

/** What the control plane showed for one workload. */
export interface EndpointsApiObservation {
  /** `cluster.discovery_strategy` of the live pods. */
  readonly strategy: string;
  /** Whether kube-controller-manager runs the endpoints-controller. */
  readonly endpointsFilled: boolean;
  readonly workload: ObjectRef;
  /** The field to point at, and the text its source line holds. */
  readonly path?: string;
  readonly locate?: string | readonly string[];
  /** The Endpoints EMQX asks for. */
  readonly namespace: string;
  readonly service: string;
  /** EMQX's request, as the pod's ServiceAccount: its HTTP status and, when 200, `subsets[].addresses` listed. */
  readonly status: number;
  readonly addresses: number;
  readonly pods: number;
  /** Pods the Service's EndpointSlices list (the controller that stays on). */
  readonly podsInSlices: number;
}

/** The finding, or undefined when the cluster fills Endpoints or the brokers do not read them. */
export function deprecatedEndpointsApiFinding(o: EndpointsApiObservation): CheckFinding | undefined {
  if (o.endpointsFilled || !readsEndpointsApi(o.strategy)) return undefined;
  const request = `GET /api/v1/namespaces/${o.namespace}/endpoints/${o.service}`;
  const answered =
    o.status === 404
      ? 'answered HTTP 404 (no Endpoints object)'
      : o.status === 200
        ? `answered 200 with ${o.addresses} address(es) that nothing keeps up to date (stale)`
        : `answered HTTP ${o.status}`;
  const deployment =
    o.workload.kind === 'StatefulSet'
      ? ''
      : ` discovery-dns needs a StatefulSet (validate's emqx/dns-discovery-workload): on such a cluster deploy a StatefulSet overlay with it (overlays/production, or statefulset-hostname-pvc with components/discovery-dns) instead of this ${o.workload.kind}.`;
  return {
    object: o.workload,
    rule: VERIFY_RULES.deprecatedEndpointsApi,
    ...(o.path !== undefined ? { path: o.path } : {}),
    ...(o.locate !== undefined ? { locate: o.locate } : {}),
    message:
      `EMQX 5.8.9's k8s discovery (ekka_cluster_k8s) reads only the deprecated v1 Endpoints API: ${request} and its subsets[].addresses. ` +
      `This cluster runs kube-controller-manager without the ${ENDPOINTS_CONTROLLER} and the ${ENDPOINTSLICE_MIRRORING_CONTROLLER} (KEP-4974), so nothing fills that object: ` +
      `EMQX's request ${answered}, while the EndpointSlices of Service ${o.service} list ${o.podsInSlices} of the ${o.pods} pods. ` +
      `Every broker stays a cluster of one, and nothing but EMQX's log says so.${deployment}`,
  };
}
