import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { emqxWorkloadsWithSettings } from '../../model/emqx.ts';

/**
 * EMQX 4.x variables that 5.x ignores, and what replaced them: only those whose replacement the
 * catalogue's "did you mean" (emqx/config-unknown) would not find, because the 5.x name is not a
 * spelling of the 4.x one. Gone from this list, as the catalogue showed: the dashboard's
 * DEFAULT_USER__LOGIN / DEFAULT_USER__PASSWORD (emqx/config-unknown suggests DEFAULT_USERNAME and
 * DEFAULT_PASSWORD), EMQX_LOG__TO (bin/emqx of 5.8.9 still reads it) and EMQX_NODE__MAX_PORTS (a
 * 5.x setting, node.max_ports). test/emqx-config.test.ts checks each replacement against the catalogue.
 */
export const LEGACY_KEYS: Readonly<Record<string, string>> = {
  EMQX_CLUSTER__DISCOVERY: 'EMQX_CLUSTER__DISCOVERY_STRATEGY',
  EMQX_CLUSTER__K8S__APP_NAME: 'EMQX_NAME (the node name prefix; peers are named <EMQX_NAME>@<host>)',
  EMQX_CLUSTER__DNS__APP: 'EMQX_NAME (the node name prefix)',
  EMQX_CLUSTER__DNS__TYPE: 'EMQX_CLUSTER__DNS__RECORD_TYPE (a | aaaa | srv)',
  EMQX_CLUSTER__K8S__SERVICE_NAME_SUFFIX: 'EMQX_CLUSTER__K8S__SUFFIX',
  EMQX_LISTENER__TCP__EXTERNAL: 'EMQX_LISTENERS__TCP__DEFAULT__BIND',
  EMQX_LISTENER__SSL__EXTERNAL: 'EMQX_LISTENERS__SSL__DEFAULT__BIND',
  EMQX_LISTENER__WS__EXTERNAL: 'EMQX_LISTENERS__WS__DEFAULT__BIND',
  EMQX_LISTENER__WSS__EXTERNAL: 'EMQX_LISTENERS__WSS__DEFAULT__BIND',
  EMQX_MANAGEMENT__LISTENER__HTTP: 'EMQX_DASHBOARD__LISTENERS__HTTP__BIND (the 5.x REST API shares the dashboard port 18083)',
  EMQX_ALLOW_ANONYMOUS: 'an authenticator (EMQX_AUTHENTICATION__...); 5.x allows anonymous clients until one is configured',
  EMQX_ACL_NOMATCH: 'EMQX_AUTHORIZATION__NO_MATCH',
  EMQX_LOADED_PLUGINS: 'the plugins API or EMQX_PLUGINS__STATES',
};

export const emqxLegacyConfig: Rule = {
  id: 'emqx/legacy-config',
  severity: 'error',
  description: 'No EMQX 4.x configuration variables: EMQX 5 ignores them silently, so the setting they meant is not applied.',
  fix: 'rename the variable to its 5.x replacement named in the message (see EMQX 5 configuration docs).',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of emqxWorkloadsWithSettings(objects)) {
      const s = w.settings;
      for (const [name, variable] of s.env.vars) {
        const replacement = LEGACY_KEYS[name];
        if (replacement) {
          findings.push(findingFor(this, w.object, `${name} is an EMQX 4.x setting, ignored by 5.x.`, { path: s.fieldPath(variable), locate: name, fix: `use ${replacement}.` }));
        }
      }
    }
    return findings;
  },
};
