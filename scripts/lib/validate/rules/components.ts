// The rules behind components/*: each checks that a component, once listed in an overlay, does
// what it promises there, and says why when the overlay cannot support it.
import type { Rule } from '../types.ts';
import { emqxDnsDiscoveryName, emqxDnsDiscoveryWorkload } from './emqx-dns-discovery.ts';
import { emqxExternalSecretTarget } from './emqx-external-secret.ts';
import { emqxMonitorTarget } from './emqx-monitoring.ts';
import { emqxTlsCertificateMount, emqxTlsCertificateNames } from './emqx-tls.ts';

export const COMPONENT_RULES: readonly Rule[] = [
  emqxDnsDiscoveryWorkload,
  emqxDnsDiscoveryName,
  emqxTlsCertificateMount,
  emqxTlsCertificateNames,
  emqxMonitorTarget,
  emqxExternalSecretTarget,
];
