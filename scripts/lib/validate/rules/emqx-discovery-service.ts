import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { emqxWorkloadsWithSettings } from '../../model/emqx.ts';
import { asRecord, findObject, selectorMatches } from '../../model/object.ts';

export const emqxDiscoveryService: Rule = {
  id: 'emqx/discovery-service',
  severity: 'error',
  description: 'With k8s discovery, cluster.k8s.service_name names a Service in the render that selects the EMQX pods and sets publishNotReadyAddresses: true.',
  fix: 'point EMQX_CLUSTER__K8S__SERVICE_NAME at the headless Service (base/service-headless.yaml), whose selector matches the pod labels and which publishes not-ready addresses.',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of emqxWorkloadsWithSettings(objects)) {
      const s = w.settings;
      if (s.value('cluster.discovery_strategy') !== 'k8s') continue;
      const variable = 'EMQX_CLUSTER__K8S__SERVICE_NAME';
      const serviceName = s.value('cluster.k8s.service_name');
      if (serviceName === undefined) {
        findings.push(findingFor(this, w.object, 'k8s discovery without cluster.k8s.service_name: EMQX reads the endpoints of a Service named "emqx", which this render may not have.', { path: s.fieldPath(variable), locate: variable }));
        continue;
      }
      const service = findObject(objects, 'Service', serviceName, w.object.metadata.namespace);
      if (!service) {
        findings.push(findingFor(this, w.object, `cluster.k8s.service_name is "${serviceName}", but the render has no Service of that name in the namespace: discovery finds no peers.`, { path: s.fieldPath(variable), locate: variable }));
        continue;
      }
      const spec = asRecord(service.spec);
      if (!selectorMatches(spec.selector, w.labels, true) || Object.keys(asRecord(spec.selector)).length === 0) {
        findings.push(findingFor(this, service, `Service ${serviceName} (cluster.k8s.service_name of ${w.object.kind} ${w.object.metadata.name}) does not select the EMQX pods (labels ${JSON.stringify(w.labels)}): its endpoints list no peers.`, { path: 'spec.selector' }));
      }
      if (spec.publishNotReadyAddresses !== true) {
        findings.push(findingFor(this, service, `Service ${serviceName} is the discovery Service but does not set publishNotReadyAddresses: true: pods that are not Ready yet (all of them, at cluster start) are never found.`, { path: 'spec.publishNotReadyAddresses', fix: 'set spec.publishNotReadyAddresses: true on the discovery Service.' }));
      }
    }
    return findings;
  },
};
