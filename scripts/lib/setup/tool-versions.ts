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

export const KUBE_SCORE: PinnedTool = {
  name: 'kube-score',
  module: 'github.com/zegl/kube-score/cmd/kube-score',
  version: 'v1.20.0',
  why: 'the linter many teams run in CI; kube-linter and polaris are not served by the module proxy',
};

export const ORAS: PinnedTool = {
  name: 'oras',
  module: 'oras.land/oras/cmd/oras',
  version: 'v1.3.6',
  why: 'pushes the Flux OCI artifacts of `npm run publish` (edge sites that pull from a registry); latest release',
};

export const PINNED_TOOLS: readonly PinnedTool[] = [KUSTOMIZE, KUBECONFORM, KUBE_SCORE, ORAS];

/**
 * A real OCI registry (distribution's, the one Docker Hub runs) for the publish tests and the Flux
 * OCI e2e. Users push to their own registry, so only `npm run setup -- --control-plane` builds it.
 */
export const REGISTRY: PinnedTool = {
  name: 'registry',
  module: 'github.com/distribution/distribution/v3/cmd/registry',
  version: 'v3.1.2',
  why: 'the reference OCI registry; plain HTTP on 127.0.0.1 for tests, no replace directives so `go install` builds it',
};

/** `go install`ed by `npm run setup -- --control-plane`, next to the CONTROL_PLANE_BUILDS. */
export const CONTROL_PLANE_TOOLS: readonly PinnedTool[] = [REGISTRY];

/** A Go module fetched from the module proxy during set-up for the files it carries (not built). */
export interface PinnedModule {
  readonly module: string;
  readonly version: string;
  /** A Go toolchain (`go1.27.3`) the go command must use for this module: its go.mod asks for a newer Go than the set-up requires. */
  readonly toolchain?: string;
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

/**
 * Argo CD's controllers for the e2e (`npm run e2e -- --engine argocd`): one multi-call binary that
 * picks its role from its file name (argocd-repo-server, argocd-application-controller, ...). One
 * version for the CRD schemas, the CRDs the control plane installs and the controllers: v3.6 is the
 * first release that builds from the module proxy (v3.5.x requires a gitops-engine pseudo-version
 * the proxy does not serve). Its go.mod says `go 1.27.0`, so the go command fetches the toolchain
 * named here from the module proxy for Argo CD alone, once; the rest of the set-up stays on Go 1.26.
 * Its go.mod replaces `./gitops-engine`, which the proxy serves as gitops-engine/v3 at the same
 * version; `copy` turns that local replace into exactly that.
 */
export const ARGOCD_BUILD: PinnedGoBuild = {
  id: 'argocd',
  module: 'github.com/argoproj/argo-cd/v3',
  version: 'v3.6.1',
  binaries: { 'github.com/argoproj/argo-cd/v3/cmd': 'argocd' },
  replaces: 'copy',
  // Without it the binary reports v99.99.99+unknown.
  ldflags: '-s -w -X github.com/argoproj/argo-cd/v3/common.version=3.6.1',
  toolchain: 'go1.27.3',
  why: 'the Argo CD the README tells users to run; the same version as its CRD schemas',
};

/** A module that carries CustomResourceDefinition YAML, and which of its files to convert. */
export interface PinnedCrdSource extends PinnedModule {
  /** Paths inside the module of plain (not Helm-templated) CRD YAML. */
  readonly files: readonly string[];
}

/**
 * The CRDs whose kinds `validate` can check offline. Flux's are the newest release that builds with
 * the Go the set-up requires (v1.10 needs Go 1.27); Argo CD's are those of the controllers the set-up
 * builds, fetched with the toolchain that build uses. Adding a CRD: docs/schemas.md, "Add a CRD".
 */
export const CRD_SOURCES: readonly PinnedCrdSource[] = [
  {
    module: 'github.com/argoproj/argo-cd/v3',
    version: ARGOCD_BUILD.version,
    toolchain: ARGOCD_BUILD.toolchain,
    why: 'Argo CD syncs the overlays (Application, ApplicationSet, AppProject); the release the set-up builds and the e2e runs',
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

/**
 * An upstream program that `go install module@version` cannot build (its go.mod has replace
 * directives), so the set-up builds it in a throw-away wrapper module (scripts/lib/setup/go-build.ts).
 */
export interface PinnedGoBuild {
  /** Names the stamp and the build directory under .tools/build. */
  readonly id: string;
  /** The module whose go.mod decides the replaces, and its version. */
  readonly module: string;
  readonly version: string;
  /** Package -> binary name in .tools/bin. */
  readonly binaries: Readonly<Record<string, string>>;
  /**
   * How the wrapper module resolves the module's own replace directives:
   * - `kubernetes-staging`: every `k8s.io/<m> => ./staging/...` becomes `k8s.io/<m>@<stagingVersion>`;
   * - `copy`: every replace is copied, except local ones (`./api`), which become `<path>@<version>`.
   */
  readonly replaces: 'kubernetes-staging' | 'copy' | 'none';
  readonly stagingVersion?: string;
  /** Replaces added on top, `module => module@version`, for versions the proxy does not serve. */
  readonly extraReplaces?: Readonly<Record<string, string>>;
  readonly ldflags?: string;
  /** A Go toolchain (`go1.27.3`) for this build only, fetched by the go command from the module proxy. */
  readonly toolchain?: string;
  readonly why: string;
}

/** The release the control plane runs: the same as the default validate version. */
export const KUBERNETES_CONTROL_PLANE_VERSION = 'v1.37.2';

export const CONTROL_PLANE_BUILDS: readonly PinnedGoBuild[] = [
  {
    id: 'kubernetes',
    module: 'k8s.io/kubernetes',
    version: KUBERNETES_CONTROL_PLANE_VERSION,
    binaries: {
      'k8s.io/kubernetes/cmd/kube-apiserver': 'kube-apiserver',
      'k8s.io/kubernetes/cmd/kube-controller-manager': 'kube-controller-manager',
      'k8s.io/kubernetes/cmd/kube-scheduler': 'kube-scheduler',
      'k8s.io/kubernetes/cmd/kubectl': 'kubectl',
    },
    replaces: 'kubernetes-staging',
    stagingVersion: 'v0.37.2',
    // Without these the binaries report v0.0.0 and kubectl warns about version skew.
    ldflags: `-s -w -X k8s.io/component-base/version.gitVersion=${KUBERNETES_CONTROL_PLANE_VERSION} -X k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES_CONTROL_PLANE_VERSION}`,
    why: 'the same release as the default `npm run validate` schemas (1.37)',
  },
  {
    id: 'etcd',
    module: 'go.etcd.io/etcd/server/v3',
    version: 'v3.6.16',
    binaries: { 'go.etcd.io/etcd/server/v3': 'etcd' },
    replaces: 'none',
    ldflags: '-s -w',
    why: 'the etcd minor Kubernetes 1.37 is tested with; the server module holds the main package',
  },
  {
    id: 'kwok',
    module: 'sigs.k8s.io/kwok',
    version: 'v0.8.0',
    binaries: { 'sigs.k8s.io/kwok/cmd/kwok': 'kwok' },
    replaces: 'none',
    ldflags: '-s -w',
    why: 'fake nodes: pods become Ready without a container runtime',
  },
  {
    id: 'source-controller',
    module: 'github.com/fluxcd/source-controller',
    version: 'v1.9.6',
    binaries: { 'github.com/fluxcd/source-controller': 'source-controller' },
    replaces: 'copy',
    // v0.18.3, which v1.9.6 asks for, is not served by the module proxy; v0.18.0 compiles.
    extraReplaces: { 'github.com/fluxcd/pkg/artifact': 'v0.18.0' },
    ldflags: '-s -w',
    why: 'the Flux release whose CRDs validate pins; v1.10 needs Go 1.27',
  },
  {
    id: 'kustomize-controller',
    module: 'github.com/fluxcd/kustomize-controller',
    version: 'v1.9.6',
    binaries: { 'github.com/fluxcd/kustomize-controller': 'kustomize-controller' },
    replaces: 'copy',
    ldflags: '-s -w',
    why: 'the Flux release whose CRDs validate pins; v1.10 needs Go 1.27',
  },
];

/** Everything `npm run setup -- --control-plane` builds, in order. */
export const SETUP_CONTROL_PLANE_BUILDS: readonly PinnedGoBuild[] = [...CONTROL_PLANE_BUILDS, ARGOCD_BUILD];
