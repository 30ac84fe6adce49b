import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { emqxWorkloadsWithSettings } from '../../model/emqx.ts';
import { type K8sObject, asArray, asRecord, asString, findObject } from '../../model/object.ts';
import { podPath } from '../../model/workloads.ts';

const NEEDED_VERBS = ['get', 'list', 'watch'];

/** Whether an RBAC rule grants these verbs on core `endpoints` (wildcards count). */
export function grantsEndpoints(rule: Record<string, unknown>, verbs: readonly string[] = NEEDED_VERBS): boolean {
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  const groups = list(rule.apiGroups);
  const resources = list(rule.resources);
  const granted = list(rule.verbs);
  return (
    (groups.includes('') || groups.includes('*')) &&
    (resources.includes('endpoints') || resources.includes('*')) &&
    verbs.every((v) => granted.includes(v) || granted.includes('*'))
  );
}

export const emqxDiscoveryRbac: Rule = {
  id: 'emqx/discovery-rbac',
  severity: 'error',
  description: "With k8s discovery, the pod mounts a ServiceAccount token and that ServiceAccount is bound to a Role granting get, list and watch on endpoints in the pods' namespace.",
  fix: 'keep base/serviceaccount.yaml, role.yaml and rolebinding.yaml, and the pod\'s serviceAccountName: emqx with automountServiceAccountToken: true.',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of emqxWorkloadsWithSettings(objects)) {
      if (w.settings.value('cluster.discovery_strategy') !== 'k8s') continue;
      const namespace = w.object.metadata.namespace;
      const account = asString(w.podSpec.serviceAccountName) ?? 'default';
      const sa = findObject(objects, 'ServiceAccount', account, namespace);
      const mounted = w.podSpec.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;
      if (mounted === false) {
        findings.push(findingFor(this, w.object, 'the pod mounts no ServiceAccount token, so discovery cannot call the API server (HTTP 401) and every pod stays a cluster of one.', { path: podPath(w, 'automountServiceAccountToken'), locate: 'automountServiceAccountToken' }));
      }
      if (!sa && account !== 'default') {
        findings.push(findingFor(this, w.object, `ServiceAccount ${account} is not in the render: the pod is not created.`, { path: podPath(w, 'serviceAccountName') }));
        continue;
      }
      if (!boundRoles(objects, account, namespace).some((role) => asArray(role.rules).some((r) => grantsEndpoints(r)))) {
        findings.push(
          findingFor(this, w.object, `no Role bound to ServiceAccount ${account} grants get, list and watch on endpoints: discovery gets HTTP 403 and every pod stays a cluster of one.`, {
            path: podPath(w, 'serviceAccountName'),
          }),
        );
      }
    }
    return findings;
  },
};

function boundRoles(objects: readonly K8sObject[], account: string, namespace: string | undefined): K8sObject[] {
  return objects
    .filter((b) => (b.kind === 'RoleBinding' && (b.metadata.namespace ?? '') === (namespace ?? '')) || b.kind === 'ClusterRoleBinding')
    .filter((b) => asArray(b.subjects).some((s) => s.kind === 'ServiceAccount' && s.name === account && (asString(s.namespace) ?? b.metadata.namespace) === namespace))
    .flatMap((b) => {
      const ref = asRecord(b.roleRef);
      const kind = asString(ref.kind) ?? '';
      const role = kind === 'Role' ? findObject(objects, 'Role', asString(ref.name) ?? '', b.metadata.namespace) : objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === ref.name);
      return role ? [role] : [];
    });
}
