import { findingFor } from '../finding.ts';
import { isDefaultValue, renderedSecretValue } from '../secret-values.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { emqxWorkloadsWithSettings } from '../../model/emqx.ts';
import type { ResolvedVar } from '../../model/env.ts';
import type { K8sObject } from '../../model/object.ts';
import type { EmqxWorkload } from '../../model/workloads.ts';

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

/** An EMQX credential: set, from a Secret (never git), and never a published default. */
interface Credential {
  readonly id: string;
  readonly variable: string;
  /** The config path EMQX reads it from. */
  readonly setting: string;
  readonly defaults: readonly string[];
  readonly description: string;
  readonly fix: string;
  /** What happens when it is not set at all. */
  readonly unset: string;
  /** What a published default means, for a default stored in a rendered Secret. */
  readonly defaultMeans: string;
}

function credentialRule(c: Credential): Rule {
  return {
    id: c.id,
    severity: 'error',
    description: c.description,
    fix: c.fix,
    check({ objects }) {
      const findings: RuleFinding[] = [];
      for (const w of emqxWorkloadsWithSettings(objects)) {
        const s = w.settings;
        const variable = s.get(c.setting);
        if (!variable) {
          findings.push(findingFor(this, w.object, `${c.variable} is not set: ${c.unset}`, { path: s.fieldPath(c.variable) }));
        } else if (variable.origin.kind !== 'secret') {
          // A published default may be named; anything else is a credential in git: say where, never what.
          const where = variable.origin.kind === 'configMap' ? `set from ConfigMap ${variable.origin.name}` : 'set from a literal in the manifest';
          const what = isDefaultValue(variable.value, c.defaults) ? `the published default "${variable.value.trim()}"` : where;
          findings.push(findingFor(this, w.object, `${c.variable} is ${what}: it is a credential, so it must come from a Secret created outside git.`, { path: s.fieldPath(variable), locate: c.variable }));
        } else {
          const stored = renderedDefault(this, w, objects, variable, c.defaults, c.defaultMeans);
          if (stored) findings.push(stored);
        }
      }
      return findings;
    },
  };
}

export const emqxCookie = credentialRule({
  id: 'emqx/cookie',
  variable: 'EMQX_NODE__COOKIE',
  setting: 'node.cookie',
  defaults: PUBLIC_COOKIES,
  description: 'EMQX_NODE__COOKIE comes from a Secret (secretKeyRef), never a literal or a ConfigMap, and is never a public default (also checked in a Secret that is in the render).',
  fix: 'set EMQX_NODE__COOKIE with valueFrom.secretKeyRef (emqx-secrets, key node-cookie) and create that Secret with a random value outside git.',
  unset: `the node runs with the public default cookie "${PUBLIC_COOKIES[0]}", and anyone who reaches port 4370 can run code on it.`,
  defaultMeans: 'a public default cookie that EMQX ships with: anyone who reaches port 4370 can run code on the nodes',
});

export const emqxDashboardPassword = credentialRule({
  id: 'emqx/dashboard-password',
  variable: 'EMQX_DASHBOARD__DEFAULT_PASSWORD',
  setting: 'dashboard.default_password',
  defaults: ['public'],
  description: 'The dashboard admin password (EMQX_DASHBOARD__DEFAULT_PASSWORD) is set, comes from a Secret, and is not `public`, the default (also checked in a Secret that is in the render).',
  fix: 'set EMQX_DASHBOARD__DEFAULT_PASSWORD with valueFrom.secretKeyRef (emqx-secrets, key dashboard-password).',
  unset: 'the dashboard and REST API open with admin / public.',
  defaultMeans: 'the published default dashboard password, so the dashboard and REST API open with the documented admin login',
});
