// The one list of rules `npm run validate` runs, in report order. A new rule is a module in this
// folder and a line here (and a row in docs/validate.md).
import type { Rule } from '../types.ts';
import { COMPONENT_RULES } from './components.ts';
import { configReference } from './config-reference.ts';
import { deploymentStatefulSetField } from './deployment-statefulset-field.ts';
import { emqxDiscoveryRbac } from './emqx-discovery-rbac.ts';
import { emqxDiscoveryService } from './emqx-discovery-service.ts';
import { emqxDiscovery } from './emqx-discovery.ts';
import { emqxImage } from './emqx-image.ts';
import { EMQX_CONFIG_RULES } from './emqx-config.ts';
import { emqxLegacyConfig } from './emqx-legacy-config.ts';
import { emqxPersistence } from './emqx-persistence.ts';
import { emqxCookie, emqxDashboardPassword } from './emqx-secrets.ts';
import { envExpansion } from './env-expansion.ts';
import { portName } from './port-name.ts';
import { clusterNetworkPolicy } from './security-cluster-network-policy.ts';
import { configMapCredentials } from './security-configmap-credentials.ts';
import { podSecurityRestricted } from './security-pod.ts';
import { rbacLeastPrivilege } from './security-rbac.ts';
import { secretInGit } from './security-secret-in-git.ts';
import { selectorMatchesTemplate } from './selector-matches-template.ts';
import { serviceTargetPort } from './service-target-port.ts';

export const RULES: readonly Rule[] = [
  // What the API server rejects and a schema cannot see.
  selectorMatchesTemplate,
  deploymentStatefulSetField,
  portName,
  serviceTargetPort,
  configReference,
  envExpansion,
  // EMQX: only where an EMQX container runs.
  emqxDiscovery,
  emqxDiscoveryService,
  emqxDiscoveryRbac,
  emqxCookie,
  emqxDashboardPassword,
  emqxLegacyConfig,
  ...EMQX_CONFIG_RULES,
  emqxImage,
  emqxPersistence,
  ...COMPONENT_RULES,
  // Security.
  podSecurityRestricted,
  rbacLeastPrivilege,
  clusterNetworkPolicy,
  configMapCredentials,
  secretInGit,
];
