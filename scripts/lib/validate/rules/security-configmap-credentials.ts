import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { asRecord } from '../../model/object.ts';

/**
 * EMQX settings that are credentials. A ConfigMap comes from git (and is readable by anyone who
 * can read ConfigMaps), so a credential there has leaked even when a Secret later shadows it in
 * the container's env, as the base's secretKeyRef variables do.
 */
const CREDENTIAL_KEYS = /^EMQX_(NODE__COOKIE|DASHBOARD__DEFAULT_PASSWORD|LICENSE__KEY)$|^EMQX_.*(PASSWORD|SECRET|_TOKEN)$/;

export const configMapCredentials: Rule = {
  id: 'security/configmap-credentials',
  severity: 'error',
  description: 'No ConfigMap holds an EMQX credential (cookie, passwords, secrets, tokens, licence key): ConfigMaps live in git and are not Secrets.',
  fix: 'remove the key from the ConfigMap (for the base, base/emqx.env or a configMapGenerator literal) and set the variable with valueFrom.secretKeyRef from a Secret created outside git.',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const configMap of objects.filter((o) => o.kind === 'ConfigMap')) {
      for (const key of Object.keys(asRecord(configMap.data)).filter((k) => CREDENTIAL_KEYS.test(k))) {
        // Never the value: findings reach logs, pull request annotations and CI output.
        findings.push(findingFor(this, configMap, `ConfigMap ${configMap.metadata.name} holds ${key}, a credential, in plain text.`, { path: `data.${key}`, locate: key }));
      }
    }
    return findings;
  },
};
