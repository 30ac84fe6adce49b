import { findingFor } from '../finding.ts';
import { asArray, asRecord, asString, containersOf, podPath, workloads } from '../k8s.ts';
import type { Rule, RuleFinding } from '../types.ts';

/**
 * The Pod Security Standard "restricted" profile (Kubernetes docs, "Pod Security Standards"), the
 * fields a manifest controls. A namespace labelled pod-security.kubernetes.io/enforce=restricted
 * rejects a pod that fails any of them.
 */
export const podSecurityRestricted: Rule = {
  id: 'security/pod-security-restricted',
  severity: 'error',
  description:
    'Pods meet the Pod Security Standard "restricted": runAsNonRoot, no privilege escalation, capabilities drop ALL, a RuntimeDefault or Localhost seccomp profile, no privileged, host namespaces, hostPath or hostPort.',
  fix: 'copy the securityContext blocks of base/statefulset.yaml (pod and container level).',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of workloads(objects)) {
      const pod = w.podSpec;
      const podSc = asRecord(pod.securityContext);
      const flag = (path: string, problem: string, locate?: string) => findings.push(findingFor(this, w.object, problem, { path: podPath(w, path), ...(locate ? { locate } : {}) }));
      for (const host of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (pod[host] === true) flag(host, `${host}: true shares the node's namespaces.`, host);
      for (const volume of asArray(pod.volumes)) if (volume.hostPath !== undefined) flag(`volumes[${asString(volume.name) ?? '?'}].hostPath`, `volume ${String(volume.name)} is a hostPath.`, 'hostPath');
      if (podSc.runAsUser === 0) flag('securityContext.runAsUser', 'runAsUser 0 runs the pod as root.', 'runAsUser');
      for (const { container, field, name } of containersOf(w)) {
        const sc = asRecord(container.securityContext);
        const at = (suffix: string) => `${field}[${name}].${suffix}`;
        if (sc.privileged === true) flag(at('securityContext.privileged'), `container ${name} is privileged.`, 'privileged');
        if (sc.allowPrivilegeEscalation !== false) flag(at('securityContext.allowPrivilegeEscalation'), `container ${name} does not set allowPrivilegeEscalation: false.`);
        if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) flag(at('securityContext.runAsNonRoot'), `container ${name} does not set runAsNonRoot: true (pod or container).`);
        if (sc.runAsUser === 0) flag(at('securityContext.runAsUser'), `container ${name} runs as root (runAsUser 0).`, 'runAsUser');
        const seccomp = asString(asRecord(sc.seccompProfile).type) ?? asString(asRecord(podSc.seccompProfile).type);
        if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') flag(at('securityContext.seccompProfile'), `container ${name} has no RuntimeDefault or Localhost seccompProfile (pod or container).`);
        const caps = asRecord(sc.capabilities);
        const drop = Array.isArray(caps.drop) ? caps.drop.map(String) : [];
        if (!drop.includes('ALL')) flag(at('securityContext.capabilities.drop'), `container ${name} does not drop ALL capabilities.`);
        const added = (Array.isArray(caps.add) ? caps.add.map(String) : []).filter((c) => c !== 'NET_BIND_SERVICE');
        if (added.length > 0) flag(at('securityContext.capabilities.add'), `container ${name} adds capabilities ${added.join(', ')} (restricted allows only NET_BIND_SERVICE).`, added[0]);
        for (const port of asArray(container.ports)) {
          if (typeof port.hostPort === 'number' && port.hostPort !== 0) flag(at(`ports[${asString(port.name) ?? port.containerPort}].hostPort`), `container ${name} binds hostPort ${port.hostPort}.`, 'hostPort');
        }
      }
    }
    return findings;
  },
};
