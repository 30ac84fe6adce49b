import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { asArray } from '../../model/object.ts';

export const rbacLeastPrivilege: Rule = {
  id: 'security/rbac',
  severity: 'error',
  description: 'Roles and ClusterRoles grant no wildcard (`*`) apiGroups, resources or verbs, and no access to Secrets.',
  fix: 'list the exact groups, resources and verbs needed (EMQX discovery needs only get, list, watch on endpoints); read Secrets through env or volumes, not the API.',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const role of objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')) {
      asArray(role.rules).forEach((rule, index) => {
        const path = `rules[${index}]`;
        for (const field of ['apiGroups', 'resources', 'verbs'] as const) {
          const values = Array.isArray(rule[field]) ? (rule[field] as unknown[]).map(String) : [];
          if (values.includes('*')) findings.push(findingFor(this, role, `rules[${index}].${field} holds the wildcard "*".`, { path: `${path}.${field}`, locate: '"*"' }));
        }
        const resources = Array.isArray(rule.resources) ? rule.resources.map(String) : [];
        if (resources.includes('secrets')) findings.push(findingFor(this, role, `rules[${index}] grants access to secrets: whoever holds the token reads every Secret in scope.`, { path: `${path}.resources`, locate: 'secrets' }));
      });
    }
    return findings;
  },
};
