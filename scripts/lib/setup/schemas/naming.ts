// kubeconform finds a schema by file name. Our -schema-location template ends in
// `{{ .ResourceKind }}{{ .KindSuffix }}.json`; these functions compute the same name, so that the
// generator writes exactly the file kubeconform will look for.

/**
 * `Deployment`, `apps/v1` -> `deployment-apps-v1.json`; `Service`, `v1` -> `service-v1.json`;
 * `Application`, `argoproj.io/v1alpha1` -> `application-argoproj-v1alpha1.json`.
 * Mirrors kubeconform's KindSuffix: the group's first DNS label, lower case.
 */
export function schemaFileName(kind: string, apiVersion: string): string {
  const parts = apiVersion.split('/');
  const version = parts.at(-1)!.toLowerCase();
  const group = parts.length > 1 ? parts[0]!.split('.')[0]!.toLowerCase() : '';
  return `${kind.toLowerCase()}${group ? `-${group}` : ''}-${version}.json`;
}

/** `('apps', 'v1')` -> `apps/v1`; the core group has no group part: `('', 'v1')` -> `v1`. */
export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}
