// What a target namespace holds before Argo CD or Flux syncs into it: the Namespace with the labels
// the GitOps manifests give it (the caller passes them: Pod Security "restricted", enforced), and
// the Secrets that come from outside git (validate.config.yaml) with random values, so that what
// reads them is admitted as it would be on a cluster. The values go to kubectl on its standard
// input, never on a command line, and are never printed.
import { randomBytes } from 'node:crypto';
import type { ControlPlane } from './start.ts';

export interface NamespaceSetup {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Secret name -> the keys it holds. */
  readonly secrets: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The field manager of what the kit's own set-up writes (not a sync's objects). */
export const SETUP_FIELD_MANAGER = 'emqx-gitops-setup';

export function namespaceObjects(setup: NamespaceSetup): unknown[] {
  const secrets = [...setup.secrets].map(([name, keys]) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: setup.name },
    type: 'Opaque',
    stringData: Object.fromEntries([...keys].map((key) => [key, randomBytes(24).toString('base64url')])),
  }));
  return [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: setup.name, labels: { ...setup.labels } } }, ...secrets];
}

/** Creates (or updates) the namespace and its outside-git Secrets. */
export async function prepareNamespace(cp: ControlPlane, setup: NamespaceSetup): Promise<void> {
  // JSON, not YAML: kubectl reads YAML 1.1, where an unquoted `y` or `no` is a boolean.
  const list = { apiVersion: 'v1', kind: 'List', items: namespaceObjects(setup) };
  await cp.kubectlOk(['apply', '--server-side', `--field-manager=${SETUP_FIELD_MANAGER}`, '-f', '-'], { input: JSON.stringify(list) });
}
