// cluster.discovery_strategy = dns (components/discovery-dns). With record_type srv, ekka names each
// peer <EMQX_NAME>@<SRV target> (ekka_cluster_dns: resolve_hosts(Name, srv)), and Kubernetes gives
// a headless Service's SRV targets as <pod hostname>.<service>.<namespace>.svc.<domain> only for pods
// that have a hostname and subdomain: StatefulSet pods. A node must name itself the same way.
import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { emqxWorkloadsWithSettings } from '../../model/emqx.ts';
import { placeholder } from '../../model/env.ts';
import { asRecord, asString, findObject } from '../../model/object.ts';

export const emqxDnsDiscoveryWorkload: Rule = {
  id: 'emqx/dns-discovery-workload',
  severity: 'error',
  description: 'DNS discovery with SRV records runs on a StatefulSet: only its pods have the stable hostnames that SRV records point at and node names are built from.',
  fix: 'use components/discovery-dns only on a StatefulSet overlay (statefulset-hostname-pvc, production); a Deployment clusters with k8s discovery and address_type ip (overlays/deployment-ip).',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of emqxWorkloadsWithSettings(objects)) {
      const s = w.settings;
      if (s.value('cluster.discovery_strategy') !== 'dns' || (s.value('cluster.dns.record_type') ?? 'a') !== 'srv') continue;
      if (w.object.kind !== 'StatefulSet') {
        findings.push(
          findingFor(this, w.object, `DNS SRV discovery on a ${w.object.kind}: its pods have no stable hostname, so the SRV records point at <pod-ip-with-dashes>.<service> names that no node can give itself, and the nodes never recognise each other.`, {
            path: s.fieldPath('EMQX_CLUSTER__DISCOVERY_STRATEGY'),
            locate: 'EMQX_CLUSTER__DISCOVERY_STRATEGY',
          }),
        );
      }
    }
    return findings;
  },
};

export const emqxDnsDiscoveryName: Rule = {
  id: 'emqx/dns-discovery-name',
  severity: 'error',
  description: "With DNS SRV discovery, cluster.dns.name is the governing headless Service's FQDN in the pods' namespace, and the node host is <pod>.<that FQDN>.",
  fix: 'build EMQX_CLUSTER__DNS__NAME as $(EMQX_CLUSTER__K8S__SERVICE_NAME).$(EMQX_CLUSTER__K8S__NAMESPACE).$(EMQX_CLUSTER__K8S__SUFFIX) (components/discovery-dns), with the service name equal to the StatefulSet\'s spec.serviceName.',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of emqxWorkloadsWithSettings(objects)) {
      const s = w.settings;
      if (s.value('cluster.discovery_strategy') !== 'dns' || w.object.kind !== 'StatefulSet') continue;
      const recordType = s.value('cluster.dns.record_type') ?? 'a';
      const dnsName = s.value('cluster.dns.name');
      const at = (variable: string, problem: string) => findingFor(this, w.object, problem, { path: s.fieldPath(variable), locate: variable });
      if (recordType !== 'srv') {
        if (s.nodeHost !== undefined && s.nodeHost !== placeholder('status.podIP')) {
          findings.push(at('EMQX_CLUSTER__DNS__RECORD_TYPE', `record_type ${recordType} names peers by IP address, but the node host is "${s.nodeHost}"; use record_type srv with hostname node names.`));
        }
        continue;
      }
      const governing = asString(asRecord(w.object.spec).serviceName);
      const service = governing !== undefined ? findObject(objects, 'Service', governing, s.namespace) : undefined;
      if (governing === undefined || !service || asRecord(service.spec).clusterIP !== 'None') {
        findings.push(findingFor(this, w.object, 'DNS SRV discovery needs spec.serviceName to name a headless Service (clusterIP: None) in the render: the SRV records are that Service\'s.', { path: 'spec.serviceName' }));
        continue;
      }
      if (dnsName === undefined) {
        findings.push(at('EMQX_CLUSTER__DNS__NAME', 'cluster.dns.name is not set: EMQX queries "localhost" and finds no peer.'));
        continue;
      }
      const prefix = `${governing}.${s.namespace ?? placeholder('metadata.namespace')}.`;
      if (!dnsName.startsWith(prefix) || dnsName.length === prefix.length) {
        findings.push(at('EMQX_CLUSTER__DNS__NAME', `cluster.dns.name is "${dnsName}", not the headless Service's FQDN "${prefix}svc.<cluster domain>": the SRV query does not list this StatefulSet's pods.`));
        continue;
      }
      const expectedHost = `${placeholder('metadata.name')}.${dnsName}`;
      if (s.nodeHost !== undefined && s.nodeHost !== expectedHost) {
        const hostVar = s.env.vars.has('EMQX_NODE__NAME') ? 'EMQX_NODE__NAME' : 'EMQX_HOST';
        findings.push(at(hostVar, `the node host is "${s.nodeHost}", but the SRV records name peers "${expectedHost}": the nodes would not recognise each other.`));
      }
    }
    return findings;
  },
};
