// Every check `npm run verify` reports, with its id, severity, description and fix: SARIF's
// tool.driver.rules and docs/verify.md list exactly these (a test holds them together).
import type { RuleDescription } from '../report/finding.ts';

const entry = (id: string, severity: RuleDescription['severity'], description: string, fix: string): RuleDescription => ({ id, severity, description, fix });

export const VERIFY_RULES = {
  render: entry('render', 'error', 'The overlay builds with kustomize.', 'see the kustomize message: it names the file.'),
  rejected: entry(
    'server/rejected',
    'error',
    'The API server accepts the object when it is server-side applied with field manager argocd-controller, as Argo CD and Flux apply it.',
    'change the field the server names; its message is quoted as is.',
  ),
  warning: entry('server/warning', 'warning', 'The API server applies the object without a warning (deprecations, Pod Security "would violate").', 'change the field the warning names.'),
  notReady: entry(
    'verify/not-ready',
    'error',
    'The workload gets every replica Ready on the control plane within the wait (scheduling, Pod Security admission, volumes).',
    'read the pod condition or event quoted in the message: it names what the scheduler or an admission check refused.',
  ),
  claims: entry('verify/claims', 'error', "Every StatefulSet pod's PersistentVolumeClaims from volumeClaimTemplates are Bound.", 'check the claim template: storage class, access modes and size.'),
  podRecreate: entry(
    'verify/pod-recreate',
    'error',
    'A deleted StatefulSet pod comes back with the same name and the same claims (its node name and Mnesia data survive a restart).',
    'keep the StatefulSet with volumeClaimTemplates; do not set the claims per pod by hand.',
  ),
  discoveryEndpoints: entry(
    'verify/discovery-endpoints',
    'error',
    "As the pod's ServiceAccount, GET /api/v1/namespaces/<ns>/endpoints/<service_name> (the request EMQX's k8s discovery sends) answers 200 and lists every pod.",
    'grant get on endpoints to the ServiceAccount in its namespace (role.yaml, rolebinding.yaml), keep publishNotReadyAddresses: true on the headless Service and point EMQX_CLUSTER__K8S__SERVICE_NAME at it.',
  ),
  discoveryNames: entry(
    'verify/discovery-names',
    'error',
    "The peer names EMQX computes from the discovery answer (k8s Endpoints or DNS SRV records) equal every live pod's EMQX_NODE__NAME.",
    'build EMQX_HOST from the same settings discovery reads (docs/overlays.md, "How each overlay clusters, and why").',
  ),
  discoveryDns: entry(
    'verify/discovery-dns',
    'error',
    "With DNS discovery, the answer cluster DNS gives for cluster.dns.name, computed from the headless Service's EndpointSlices as CoreDNS computes it (label kubernetes.io/service-name; an endpoint whose ready condition is false left out), lists every pod; while the Endpoints controller runs, it equals the answer computed from the Service's Endpoints.",
    'keep publishNotReadyAddresses: true on the headless Service that cluster.dns.name names (the EndpointSlice controller then marks starting pods ready) and the StatefulSet\'s serviceName equal to it (its pods get their hostname from it).',
  ),
  deprecatedEndpointsApi: entry(
    'verify/deprecated-endpoints-api',
    'error',
    'On a cluster that runs without the Endpoints controller (verify --without-endpoints-controller, KEP-4974), no broker discovers its peers through the deprecated v1 Endpoints API, which nothing fills there.',
    'cluster through DNS, which cluster DNS serves from EndpointSlices: add the discovery-dns component (components/discovery-dns, as overlays/production does) to a StatefulSet overlay; it needs no Role and no API token.',
  ),
  discoveryRbac: entry(
    'verify/discovery-rbac',
    'error',
    "The pod's ServiceAccount can read nothing but what discovery needs: get secrets and create pods/exec are denied.",
    'grant only get, list, watch on endpoints (role.yaml); bind no other Role or ClusterRole to the ServiceAccount.',
  ),
} as const;

export function verifyRuleList(): RuleDescription[] {
  return Object.values(VERIFY_RULES);
}
