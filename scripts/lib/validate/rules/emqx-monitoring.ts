// Prometheus Operator monitors of the broker (components/monitoring): the monitor selects the EMQX
// pods, on a port their container exposes, and authenticates when EMQX requires it.
// EMQX 5.8.9 asks for credentials on /api/v5/prometheus/* only when prometheus.enable_basic_auth
// is true (emqx_prometheus_api: security/0); the default is false until 6.3.
import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { emqxWorkloadsWithSettings } from '../../model/emqx.ts';
import { type K8sObject, asArray, asRecord, asString, selectorMatches } from '../../model/object.ts';
import { type EmqxWorkload, servicesSelecting } from '../../model/workloads.ts';

const isMonitor = (o: K8sObject) => o.apiVersion.startsWith('monitoring.coreos.com/') && (o.kind === 'PodMonitor' || o.kind === 'ServiceMonitor');

/** The namespaces a monitor looks in: its own unless namespaceSelector says otherwise. */
function watches(monitor: K8sObject, namespace: string | undefined): boolean {
  const sel = asRecord(asRecord(monitor.spec).namespaceSelector);
  if (sel.any === true) return true;
  const names = Array.isArray(sel.matchNames) ? sel.matchNames.map(String) : [];
  return names.length > 0 ? names.includes(namespace ?? '') : (monitor.metadata.namespace ?? '') === (namespace ?? '');
}

export const emqxMonitorTarget: Rule = {
  id: 'emqx/monitor-target',
  severity: 'error',
  description: "A PodMonitor or ServiceMonitor of the broker selects the EMQX pods, scrapes a port their container exposes, and sends basic auth from a Secret when EMQX's metrics endpoint requires it.",
  fix: 'select app.kubernetes.io/name=emqx, app.kubernetes.io/instance=emqx on port `dashboard`, path /api/v5/prometheus/stats, with basicAuth from a Secret (components/monitoring).',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    const brokers = emqxWorkloadsWithSettings(objects);
    for (const monitor of objects.filter(isMonitor)) {
      const spec = asRecord(monitor.spec);
      const isPod = monitor.kind === 'PodMonitor';
      const endpointsField = isPod ? 'podMetricsEndpoints' : 'endpoints';
      const selected = brokers.filter((w) => watches(monitor, w.object.metadata.namespace) && targets(monitor, w, objects));
      if (selected.length === 0) {
        findings.push(findingFor(this, monitor, `${monitor.kind} ${monitor.metadata.name} selects no EMQX ${isPod ? 'pods' : 'Service'}: Prometheus scrapes nothing.`, { path: 'spec.selector' }));
        continue;
      }
      for (const w of selected) {
        const s = w.settings;
        const authRequired = s.value('prometheus.enable_basic_auth') === 'true';
        const exposed = isPod ? containerPortNames(w) : servicePortNames(objects, w);
        asArray(spec[endpointsField]).forEach((endpoint, index) => {
          const port = asString(endpoint.port);
          const path = `spec.${endpointsField}[${index}]`;
          if (port === undefined || !exposed.has(port)) {
            findings.push(findingFor(this, monitor, `${monitor.kind} ${monitor.metadata.name} scrapes port "${port ?? '(none)'}", which the EMQX ${isPod ? 'container' : 'Service'} does not name (it has ${[...exposed].join(', ')}).`, { path: `${path}.port` }));
          }
          const basic = asRecord(endpoint.basicAuth);
          const fromSecret = ['username', 'password'].every((k) => asString(asRecord(basic[k]).name) !== undefined && asString(asRecord(basic[k]).key) !== undefined);
          if (authRequired && !fromSecret) {
            findings.push(findingFor(this, monitor, `EMQX requires basic auth on its metrics endpoint (EMQX_PROMETHEUS__ENABLE_BASIC_AUTH=true), but ${monitor.kind} ${monitor.metadata.name} sends no basicAuth from a Secret: every scrape gets 401.`, { path: `${path}.basicAuth` }));
          }
        });
      }
    }
    return findings;
  },
};

function targets(monitor: K8sObject, w: EmqxWorkload, objects: readonly K8sObject[]): boolean {
  const selector = asRecord(monitor.spec).selector;
  if (monitor.kind === 'PodMonitor') return selectorMatches(selector, w.labels);
  return servicesSelecting(objects, w).some((svc) => selectorMatches(selector, svc.metadata.labels ?? {}));
}

function containerPortNames(w: EmqxWorkload): Set<string> {
  return new Set(asArray(w.container.ports).map((p) => asString(p.name)).filter((n): n is string => n !== undefined));
}

function servicePortNames(objects: readonly K8sObject[], w: EmqxWorkload): Set<string> {
  return new Set(servicesSelecting(objects, w).flatMap((svc) => asArray(asRecord(svc.spec).ports).map((p) => asString(p.name)).filter((n): n is string => n !== undefined)));
}
