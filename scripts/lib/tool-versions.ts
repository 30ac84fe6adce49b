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

export const PINNED_TOOLS: readonly PinnedTool[] = [KUSTOMIZE];
