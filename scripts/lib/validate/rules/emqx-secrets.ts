import { emqxSettings } from '../emqx.ts';
import { findingFor } from '../finding.ts';
import type { ResolvedVar } from '../env.ts';
import { emqxWorkloads, type EmqxWorkload } from '../k8s.ts';
import { isDefaultValue, renderedSecretValue } from '../secret-values.ts';
import type { K8sObject, Rule, RuleFinding } from '../types.ts';

/** The cookies EMQX ships with: 5.x, and 6.x. Anyone who reaches port 4370 with one runs code. */
export const PUBLIC_COOKIES = ['emqxsecretcookie', 'emqx50elixir'];

/**
 * A variable set from a Secret that is in the render (a secretGenerator or a Secret committed to an
 * overlay) whose stored value is one of `defaults`: a finding on the Secret's key. The message names
 * the Secret, the key and the variable, never the value.
 */
function renderedDefault(rule: Rule, w: EmqxWorkload, objects: readonly K8sObject[], variable: ResolvedVar, defaults: readonly string[], what: string): RuleFinding | undefined {
  if (variable.origin.kind !== 'secret') return undefined;
  const { name, key } = variable.origin;
  const stored = renderedSecretValue(objects, w.object.metadata.namespace, name, key);
  if (!stored || !isDefaultValue(stored.value, defaults)) return undefined;
  return findingFor(rule, stored.secret, `Secret ${name} is in the render, so in git, and its key ${key} (${variable.name} of ${w.object.kind} ${w.object.metadata.name}) holds ${what}.`, {
    path: `${stored.field}.${key}`,
    // A secretGenerator literal (`key=value`) in the overlay, else the key in a Secret manifest.
    locate: [`${key}=`, `${key}:`],
    fix: `take Secret ${name} out of the overlay (secretGenerator or manifest) and create it outside git with a random value: External Secrets, Sealed Secrets or SOPS (docs/gitops.md, "The EMQX Secret, the GitOps way").`,
  });
}

export const emqxCookie: Rule = {
  id: 'emqx/cookie',
  severity: 'error',
  description: 'EMQX_NODE__COOKIE comes from a Secret (secretKeyRef), never a literal or a ConfigMap, and is never a public default (also checked in a Secret that is in the render).',
  fix: 'set EMQX_NODE__COOKIE with valueFrom.secretKeyRef (emqx-secrets, key node-cookie) and create that Secret with a random value outside git.',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of emqxWorkloads(objects)) {
      const s = emqxSettings(w, objects);
      const cookie = s.get('node.cookie');
      const name = 'EMQX_NODE__COOKIE';
      if (!cookie) {
        findings.push(findingFor(this, w.object, `EMQX_NODE__COOKIE is not set: the node runs with the public default cookie "${PUBLIC_COOKIES[0]}", and anyone who reaches port 4370 can run code on it.`, { path: s.fieldPath(name) }));
      } else if (cookie.origin.kind !== 'secret') {
        const isPublic = PUBLIC_COOKIES.includes(cookie.value);
        findings.push(
          findingFor(this, w.object, `EMQX_NODE__COOKIE is ${isPublic ? `the public default "${cookie.value}"` : `set from ${cookie.origin.kind === 'configMap' ? `ConfigMap ${cookie.origin.name}` : 'a literal'}`}: the cookie is a credential and must come from a Secret.`, {
            path: s.fieldPath(cookie),
            locate: name,
          }),
        );
      } else {
        const stored = renderedDefault(this, w, objects, cookie, PUBLIC_COOKIES, 'a public default cookie that EMQX ships with: anyone who reaches port 4370 can run code on the nodes');
        if (stored) findings.push(stored);
      }
    }
    return findings;
  },
};

export const emqxDashboardPassword: Rule = {
  id: 'emqx/dashboard-password',
  severity: 'error',
  description: 'The dashboard admin password (EMQX_DASHBOARD__DEFAULT_PASSWORD) is set, comes from a Secret, and is not `public`, the default (also checked in a Secret that is in the render).',
  fix: 'set EMQX_DASHBOARD__DEFAULT_PASSWORD with valueFrom.secretKeyRef (emqx-secrets, key dashboard-password).',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of emqxWorkloads(objects)) {
      const s = emqxSettings(w, objects);
      const password = s.get('dashboard.default_password');
      const name = 'EMQX_DASHBOARD__DEFAULT_PASSWORD';
      if (!password) {
        findings.push(findingFor(this, w.object, 'EMQX_DASHBOARD__DEFAULT_PASSWORD is not set: the dashboard and REST API open with admin / public.', { path: s.fieldPath(name) }));
      } else if (password.value === 'public') {
        findings.push(findingFor(this, w.object, 'EMQX_DASHBOARD__DEFAULT_PASSWORD is "public", the published default.', { path: s.fieldPath(password), locate: name }));
      } else if (password.origin.kind !== 'secret') {
        // The value is a credential written into git: name where it is, never what it is.
        const where = password.origin.kind === 'configMap' ? `ConfigMap ${password.origin.name}` : 'a literal in the manifest';
        findings.push(findingFor(this, w.object, `EMQX_DASHBOARD__DEFAULT_PASSWORD is set from ${where}, so the admin password is in git.`, { path: s.fieldPath(password), locate: name }));
      } else {
        const stored = renderedDefault(this, w, objects, password, ['public'], 'the published default dashboard password, so the dashboard and REST API open with the documented admin login');
        if (stored) findings.push(stored);
      }
    }
    return findings;
  },
};
