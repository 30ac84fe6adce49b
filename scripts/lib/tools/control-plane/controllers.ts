// kube-controller-manager's `--controllers` list, read the way it reads it
// (k8s.io/controller-manager app/helper.go IsControllerEnabled, v0.37.2): the first entry that names
// a controller decides (`name` on, `-name` off); otherwise `*` turns on every controller that is
// not disabled by default, and without `*` nothing runs. An unknown name makes it exit at start
// ("... is not in the list of known controllers", options/generic.go Validate).

/** The controllers that fill v1 Endpoints (kube-controller-manager 1.37.2 `--help`). */
export const ENDPOINTS_CONTROLLER = 'endpoints-controller';
export const ENDPOINTSLICE_MIRRORING_CONTROLLER = 'endpointslice-mirroring-controller';

/** kube-controller-manager's default. */
export const DEFAULT_CONTROLLERS: readonly string[] = ['*'];

/**
 * A cluster that no longer fills v1 Endpoints (KEP-4974; Kubernetes 1.37 runs a CI job like it):
 * every default controller but the two that write Endpoints. The EndpointSlice controller stays on.
 */
export const WITHOUT_ENDPOINTS_CONTROLLERS: readonly string[] = ['*', `-${ENDPOINTS_CONTROLLER}`, `-${ENDPOINTSLICE_MIRRORING_CONTROLLER}`];

/** Whether kube-controller-manager runs `name` with this `--controllers` list. */
export function controllerRuns(name: string, controllers: readonly string[], disabledByDefault: readonly string[] = []): boolean {
  let star = false;
  for (const c of controllers) {
    if (c === name) return true;
    if (c === `-${name}`) return false;
    if (c === '*') star = true;
  }
  return star && !disabledByDefault.includes(name);
}
