import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { type EmqxSettings, emqxWorkloadsWithSettings } from '../../model/emqx.ts';
import { placeholder } from '../../model/env.ts';
import { type K8sObject, asRecord, asString, findObject } from '../../model/object.ts';

/** EMQX 5.8's defaults, for settings an overlay leaves out. */
const DEFAULT_STRATEGY = 'manual';
const DEFAULT_ADDRESS_TYPE = 'ip';

export const emqxDiscovery: Rule = {
  id: 'emqx/discovery',
  severity: 'error',
  description:
    'Discovery strategy, address type, workload kind and node name agree: hostname needs a StatefulSet whose serviceName is a headless Service, ip needs the pod IP as host, and the node host is built from the suffix, service and namespace that discovery uses.',
  fix: 'see the message; base/emqx.env and the base StatefulSet show a consistent hostname set-up, overlays/deployment-ip an ip one.',
  check({ objects }) {
    return emqxWorkloadsWithSettings(objects).flatMap((w) => checkOne(this, w.settings, objects));
  },
};

function checkOne(rule: Rule, s: EmqxSettings, objects: readonly K8sObject[]): RuleFinding[] {
  const w = s.workload;
  const strategy = s.value('cluster.discovery_strategy') ?? DEFAULT_STRATEGY;
  const strategyVar = 'EMQX_CLUSTER__DISCOVERY_STRATEGY';
  const at = (variable: string, problem: string, fix?: string) =>
    findingFor(rule, w.object, problem, { path: s.fieldPath(variable), locate: variable, ...(fix ? { fix } : {}) });

  if (w.replicas > 1 && (strategy === 'singleton' || strategy === 'manual')) {
    return [at(strategyVar, `${w.replicas} replicas with discovery_strategy ${strategy}: the nodes never join each other.`, 'set EMQX_CLUSTER__DISCOVERY_STRATEGY=k8s (or dns), or run one replica.')];
  }
  if (strategy !== 'k8s') return [];
  if (w.replicas > 1 && s.nodeHost === undefined) {
    return [at('EMQX_HOST', 'neither EMQX_NODE__NAME nor EMQX_HOST is set: every node is emqx@127.0.0.1 and peers cannot reach it.', 'set EMQX_HOST as the address type requires (base/statefulset.yaml shows the hostname form).')];
  }

  const findings: RuleFinding[] = [];
  const addressType = s.value('cluster.k8s.address_type') ?? DEFAULT_ADDRESS_TYPE;
  const serviceName = s.value('cluster.k8s.service_name');
  const suffix = s.value('cluster.k8s.suffix');
  const namespaceVar = s.get('cluster.k8s.namespace');
  // The host is usually what is wrong; EMQX_NODE__NAME only when it is written out in full.
  const hostVar = s.env.vars.has('EMQX_HOST') ? 'EMQX_HOST' : 'EMQX_NODE__NAME';

  // Discovery looks for the Service in this namespace; EMQX's default is `default`.
  if (namespaceVar === undefined) {
    findings.push(at('EMQX_CLUSTER__K8S__NAMESPACE', 'cluster.k8s.namespace is not set, so discovery looks in the namespace "default".', 'set EMQX_CLUSTER__K8S__NAMESPACE from the downward API (fieldRef metadata.namespace).'));
  } else if (s.namespace !== undefined && namespaceVar.value !== s.namespace) {
    findings.push(at('EMQX_CLUSTER__K8S__NAMESPACE', `cluster.k8s.namespace is "${namespaceVar.value}" but the pods run in "${s.namespace}".`, 'set EMQX_CLUSTER__K8S__NAMESPACE from the downward API (fieldRef metadata.namespace).'));
  }

  if (addressType === 'hostname') {
    if (w.object.kind !== 'StatefulSet') {
      findings.push(at('EMQX_CLUSTER__K8S__ADDRESS_TYPE', `address_type hostname needs stable pod names from a StatefulSet, but the workload is a ${w.object.kind}.`, 'use a StatefulSet, or address_type ip (overlays/deployment-ip).'));
      return findings;
    }
    const governing = asString(asRecord(w.object.spec).serviceName);
    const service = governing !== undefined ? findObject(objects, 'Service', governing, s.namespace) : undefined;
    if (governing === undefined || !service || asRecord(service.spec).clusterIP !== 'None') {
      findings.push(
        findingFor(rule, w.object, `address_type hostname needs spec.serviceName to name a headless Service (clusterIP: None) in the render; ${governing === undefined ? 'serviceName is not set' : !service ? `Service ${governing} is not in the render` : `Service ${governing} is not headless`}: pod hostnames do not resolve.`, {
          path: 'spec.serviceName',
          fix: 'point spec.serviceName at a Service with clusterIP: None that selects the pods.',
        }),
      );
    } else if (serviceName !== undefined && serviceName !== governing) {
      findings.push(at('EMQX_CLUSTER__K8S__SERVICE_NAME', `cluster.k8s.service_name is "${serviceName}" but the StatefulSet's pods are named through "${governing}" (spec.serviceName): peers are looked up under a name that does not resolve.`, 'make EMQX_CLUSTER__K8S__SERVICE_NAME equal spec.serviceName.'));
    }
    if (suffix === undefined) {
      findings.push(at('EMQX_CLUSTER__K8S__SUFFIX', 'address_type hostname without cluster.k8s.suffix: EMQX appends "pod.local", which no pod hostname ends with.', 'set EMQX_CLUSTER__K8S__SUFFIX=svc.<cluster domain> (svc.cluster.local on most clusters).'));
    }
    const expected = `${placeholder('metadata.name')}.${serviceName ?? '<service_name>'}.${s.namespace ?? placeholder('metadata.namespace')}.${suffix ?? 'pod.local'}`;
    if (s.nodeHost !== undefined && suffix !== undefined && serviceName !== undefined && s.nodeHost !== expected) {
      findings.push(at(hostVar, `the node host is "${s.nodeHost}", but discovery names peers "${expected}" (pod.service_name.namespace.suffix): the nodes would not recognise each other.`, 'build EMQX_HOST as $(POD_NAME).$(EMQX_CLUSTER__K8S__SERVICE_NAME).$(EMQX_CLUSTER__K8S__NAMESPACE).$(EMQX_CLUSTER__K8S__SUFFIX), with each variable defined above it.'));
    }
  } else if (addressType === 'ip') {
    if (s.nodeHost !== undefined && s.nodeHost !== placeholder('status.podIP')) {
      findings.push(at(hostVar, `address_type ip names peers by pod IP, but the node host is "${s.nodeHost}".`, 'set EMQX_HOST to $(POD_IP), with POD_IP (fieldRef status.podIP) defined above it.'));
    }
  } else if (addressType === 'dns') {
    findings.push(at('EMQX_CLUSTER__K8S__ADDRESS_TYPE', 'address_type dns names peers <a-b-c-d>.<namespace>.pod.<domain>, a host Kubernetes cannot put into EMQX_HOST from the pod spec.', 'use address_type hostname (StatefulSet) or ip.'));
  } else {
    findings.push(at('EMQX_CLUSTER__K8S__ADDRESS_TYPE', `address_type "${addressType}" is not one of ip, dns, hostname.`));
  }
  return findings;
}
