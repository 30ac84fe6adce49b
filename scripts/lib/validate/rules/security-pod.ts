import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { type Json, asArray, asRecord, asString, stringMap } from '../../model/object.ts';
import { type Workload, containersOf, podPath, workloads } from '../../model/workloads.ts';

// The lists below follow the Pod Security Admission checks (k8s.io/pod-security-admission/policy)
// at the newest version validate checks against, so that a pod the API server admits is not reported.

/**
 * check_restrictedVolumes.go. `image` is allowed since Kubernetes 1.33 (an OCI image mounted
 * read-only), beyond the eight the Pod Security Standards page lists.
 */
export const RESTRICTED_VOLUME_TYPES: ReadonlySet<string> = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret']);

/** check_sysctls.go: namespaced and isolated from other pods. tcp_rmem and tcp_wmem since 1.32. */
export const SAFE_SYSCTLS: ReadonlySet<string> = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
]);

/** check_seLinuxOptions.go; container_engine_t since 1.31. Empty: the runtime's default. */
export const SELINUX_TYPES: ReadonlySet<string> = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

const CONFINED_PROFILES: ReadonlySet<string> = new Set(['RuntimeDefault', 'Localhost']);
const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

/** The pod template's metadata (a bare Pod's own) and its field path. */
function podMetadata(w: Workload): { metadata: Json; path: string } {
  if (!w.templatePath) return { metadata: asRecord(w.object.metadata), path: 'metadata' };
  let template: unknown = w.object;
  for (const key of w.templatePath.split('.')) template = asRecord(template)[key];
  return { metadata: asRecord(asRecord(template).metadata), path: `${w.templatePath}.metadata` };
}

/** The problems a securityContext (pod or container level) has with the fields both levels share. */
function sharedContextProblems(sc: Json, who: string): Array<{ field: string; problem: string; locate?: string }> {
  const problems: Array<{ field: string; problem: string; locate?: string }> = [];
  if (sc.runAsUser === 0) problems.push({ field: 'runAsUser', problem: `${who} runs as root (runAsUser 0).`, locate: 'runAsUser' });
  const selinux = asRecord(sc.seLinuxOptions);
  const selinuxType = asString(selinux.type) ?? '';
  if (!SELINUX_TYPES.has(selinuxType)) problems.push({ field: 'seLinuxOptions.type', problem: `${who} sets the SELinux type ${selinuxType} (allowed: ${[...SELINUX_TYPES].filter(Boolean).join(', ')}, or none).`, locate: selinuxType });
  for (const field of ['user', 'role'] as const) {
    if (asString(selinux[field])) problems.push({ field: `seLinuxOptions.${field}`, problem: `${who} sets a custom SELinux ${field}.`, locate: 'seLinuxOptions' });
  }
  const appArmor = asString(asRecord(sc.appArmorProfile).type);
  if (appArmor !== undefined && !CONFINED_PROFILES.has(appArmor)) problems.push({ field: 'appArmorProfile.type', problem: `${who} sets the AppArmor profile ${appArmor} (allowed: RuntimeDefault, Localhost).`, locate: appArmor });
  if (asRecord(sc.windowsOptions).hostProcess === true) problems.push({ field: 'windowsOptions.hostProcess', problem: `${who} runs as a Windows HostProcess, with the node's privileges.`, locate: 'hostProcess' });
  return problems;
}

/**
 * The Pod Security Standard "restricted" profile (which includes "baseline"), the fields a manifest
 * controls. A namespace labelled pod-security.kubernetes.io/enforce=restricted rejects a pod that
 * fails any of them.
 */
export const podSecurityRestricted: Rule = {
  id: 'security/pod-security-restricted',
  severity: 'error',
  description:
    'Pods meet the Pod Security Standard "restricted" (and so "baseline"), containers and initContainers alike: runAsNonRoot and never runAsUser 0, no privilege escalation, capabilities drop ALL and add at most NET_BIND_SERVICE, a RuntimeDefault or Localhost seccomp profile, no privileged, host namespaces, hostPort or Windows HostProcess; only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret volumes; only safe sysctls; no custom SELinux user, role or type; procMount Default; AppArmor not unconfined.',
  fix: 'copy the securityContext blocks of base/statefulset.yaml (pod and container level).',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of workloads(objects)) {
      const pod = w.podSpec;
      const podSc = asRecord(pod.securityContext);
      const flag = (path: string, problem: string, locate?: string) => findings.push(findingFor(this, w.object, problem, { path: podPath(w, path), ...(locate ? { locate } : {}) }));
      for (const host of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (pod[host] === true) flag(host, `${host}: true shares the node's namespaces.`, host);
      for (const volume of asArray(pod.volumes)) {
        const name = asString(volume.name) ?? '?';
        for (const type of Object.keys(volume).filter((k) => k !== 'name' && !RESTRICTED_VOLUME_TYPES.has(k))) {
          flag(`volumes[${name}].${type}`, type === 'hostPath' ? `volume ${name} is a hostPath: it reads or writes the node's file system.` : `volume ${name} is of type ${type}, which "restricted" forbids (use a persistentVolumeClaim or csi volume instead).`, `${type}:`);
        }
      }
      for (const { field, problem, locate } of sharedContextProblems(podSc, 'the pod')) flag(`securityContext.${field}`, problem, locate);
      const podSeccomp = asString(asRecord(podSc.seccompProfile).type);
      if (podSeccomp !== undefined && !CONFINED_PROFILES.has(podSeccomp)) flag('securityContext.seccompProfile.type', `the pod sets the seccomp profile ${podSeccomp} (allowed: RuntimeDefault, Localhost).`, podSeccomp);
      for (const sysctl of asArray(podSc.sysctls)) {
        const name = asString(sysctl.name) ?? '?';
        if (!SAFE_SYSCTLS.has(name)) flag(`securityContext.sysctls[${name}]`, `sysctl ${name} is not in the safe set: it can affect the node or other pods.`, name);
      }
      const meta = podMetadata(w);
      for (const [key, value] of Object.entries(stringMap(asRecord(meta.metadata).annotations))) {
        if (key.startsWith(APPARMOR_ANNOTATION) && value !== '' && value !== 'runtime/default' && !value.startsWith('localhost/')) {
          findings.push(findingFor(this, w.object, `annotation ${key} sets the AppArmor profile ${value} (allowed: runtime/default, localhost/*).`, { path: `${meta.path}.annotations[${key}]`, locate: key }));
        }
      }
      for (const { container, field, name } of containersOf(w)) {
        const sc = asRecord(container.securityContext);
        const at = (suffix: string) => `${field}[${name}].${suffix}`;
        const who = `container ${name}`;
        if (sc.privileged === true) flag(at('securityContext.privileged'), `${who} is privileged.`, 'privileged');
        if (sc.allowPrivilegeEscalation !== false) flag(at('securityContext.allowPrivilegeEscalation'), `${who} does not set allowPrivilegeEscalation: false.`);
        if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) flag(at('securityContext.runAsNonRoot'), `${who} does not set runAsNonRoot: true (pod or container).`);
        for (const problem of sharedContextProblems(sc, who)) flag(at(`securityContext.${problem.field}`), problem.problem, problem.locate);
        const ownSeccomp = asString(asRecord(sc.seccompProfile).type);
        if (ownSeccomp !== undefined && !CONFINED_PROFILES.has(ownSeccomp)) flag(at('securityContext.seccompProfile.type'), `${who} sets the seccomp profile ${ownSeccomp} (allowed: RuntimeDefault, Localhost).`, ownSeccomp);
        else if (ownSeccomp === undefined && !CONFINED_PROFILES.has(podSeccomp ?? '')) flag(at('securityContext.seccompProfile'), `${who} has no RuntimeDefault or Localhost seccompProfile (pod or container).`);
        const procMount = asString(sc.procMount);
        if (procMount !== undefined && procMount !== 'Default') flag(at('securityContext.procMount'), `${who} sets procMount ${procMount}, which unmasks /proc (allowed: Default).`, 'procMount');
        const caps = asRecord(sc.capabilities);
        const drop = Array.isArray(caps.drop) ? caps.drop.map(String) : [];
        if (!drop.includes('ALL')) flag(at('securityContext.capabilities.drop'), `${who} does not drop ALL capabilities.`);
        const added = (Array.isArray(caps.add) ? caps.add.map(String) : []).filter((c) => c !== 'NET_BIND_SERVICE');
        if (added.length > 0) flag(at('securityContext.capabilities.add'), `${who} adds capabilities ${added.join(', ')} (restricted allows only NET_BIND_SERVICE).`, added[0]);
        for (const port of asArray(container.ports)) {
          if (typeof port.hostPort === 'number' && port.hostPort !== 0) flag(at(`ports[${asString(port.name) ?? port.containerPort}].hostPort`), `${who} binds hostPort ${port.hostPort}.`, 'hostPort');
        }
      }
    }
    return findings;
  },
};
