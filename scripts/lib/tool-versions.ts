// The one place tool versions are pinned. `npm ci` (scripts/setup.ts) installs each of them with
// `go install module@version` into .tools/bin; the scripts run them from there.

export interface PinnedTool {
  /** The command's name, and its file name in .tools/bin. */
  readonly name: string;
  /** The Go package `go install` builds. */
  readonly module: string;
  readonly version: string;
  /** Why this version: the reader's first question when bumping it. */
  readonly why: string;
}

export const KUSTOMIZE: PinnedTool = {
  name: 'kustomize',
  module: 'sigs.k8s.io/kustomize/kustomize/v5',
  version: 'v5.8.1',
  why: 'the version Argo CD bundles; render with what the controller runs',
};

export const KUBECONFORM: PinnedTool = {
  name: 'kubeconform',
  module: 'github.com/yannh/kubeconform/cmd/kubeconform',
  version: 'v0.7.0',
  why: 'latest release; strict offline validation against the local schemas in .tools/schemas',
};

export const PINNED_TOOLS: readonly PinnedTool[] = [KUSTOMIZE, KUBECONFORM];

/** A Go module fetched from the module proxy during set-up for the files it carries (not built). */
export interface PinnedModule {
  readonly module: string;
  readonly version: string;
  readonly why: string;
}

/**
 * Kubernetes releases whose OpenAPI spec (api/openapi-spec/v3 in the k8s.io/kubernetes module) the
 * set-up turns into kubeconform schemas. One patch release per supported minor; `validate` takes the
 * minor (`--kubernetes-version 1.35`) and maps it here.
 */
export const KUBERNETES_RELEASES: readonly PinnedModule[] = [
  { module: 'k8s.io/kubernetes', version: 'v1.35.4', why: 'the oldest minor we claim to support; CI validates against it' },
  { module: 'k8s.io/kubernetes', version: 'v1.36.3', why: 'supported minor, latest patch on the module proxy' },
  { module: 'k8s.io/kubernetes', version: 'v1.37.2', why: 'the newest minor and the default for `npm run validate`' },
];

/** The minor `validate` checks against when no --kubernetes-version is given. */
export const DEFAULT_KUBERNETES_MINOR = '1.37';

/** A module that carries CustomResourceDefinition YAML, and which of its files to convert. */
export interface PinnedCrdSource extends PinnedModule {
  /** Paths inside the module of plain (not Helm-templated) CRD YAML. */
  readonly files: readonly string[];
}

/**
 * The CRDs whose kinds `validate` can check offline. Versions are the newest the module proxy
 * serves that build with the Go the set-up requires (newer Argo CD and Flux releases need Go 1.27
 * and `go mod download` refuses them). Adding a CRD: docs/schemas.md, "Adding a CRD".
 */
export const CRD_SOURCES: readonly PinnedCrdSource[] = [
  {
    module: 'github.com/argoproj/argo-cd/v3',
    version: 'v3.5.7',
    why: 'Argo CD syncs the overlays (Application, ApplicationSet, AppProject)',
    files: ['manifests/crds/application-crd.yaml', 'manifests/crds/applicationset-crd.yaml', 'manifests/crds/appproject-crd.yaml'],
  },
  {
    module: 'github.com/fluxcd/source-controller',
    version: 'v1.9.6',
    why: 'Flux sources for the Flux path (GitRepository, OCIRepository)',
    files: ['config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml', 'config/crd/bases/source.toolkit.fluxcd.io_ocirepositories.yaml'],
  },
  {
    module: 'github.com/fluxcd/kustomize-controller',
    version: 'v1.9.6',
    why: 'Flux Kustomization, same Flux release line as source-controller',
    files: ['config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml'],
  },
  {
    module: 'github.com/prometheus-operator/prometheus-operator',
    version: 'v0.85.0',
    why: 'PodMonitor/ServiceMonitor for scraping EMQX metrics',
    files: ['example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml', 'example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml'],
  },
  {
    module: 'github.com/cert-manager/cert-manager',
    version: 'v1.21.2',
    why: 'TLS certificates for the MQTT listeners (deploy/crds holds the plain, non-Helm CRDs)',
    files: ['deploy/crds/cert-manager.io_certificates.yaml', 'deploy/crds/cert-manager.io_issuers.yaml', 'deploy/crds/cert-manager.io_clusterissuers.yaml'],
  },
  {
    module: 'github.com/external-secrets/external-secrets',
    version: 'v1.3.2',
    why: 'delivers the emqx-secrets Secret from a secret store (external-secrets.io/v1)',
    files: [
      'config/crds/bases/external-secrets.io_externalsecrets.yaml',
      'config/crds/bases/external-secrets.io_secretstores.yaml',
      'config/crds/bases/external-secrets.io_clustersecretstores.yaml',
    ],
  },
];
