// The TLS listeners (components/tls): each file a listener reads sits on a mounted volume, the
// cert-manager Certificate's Secret is that volume, and the Certificate names what clients dial.
import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { emqxWorkloadsWithSettings } from '../../model/emqx.ts';
import { type K8sObject, asArray, asRecord, asString } from '../../model/object.ts';
import { type EmqxWorkload, servicesSelecting } from '../../model/workloads.ts';

const LISTENER_FILES = ['ssl', 'wss'].flatMap((listener) => ['certfile', 'keyfile', 'cacertfile'].map((file) => `listeners.${listener}.default.ssl_options.${file}`));

interface MountedVolume {
  readonly mountPath: string;
  readonly volume: Record<string, unknown>;
}

function mountsOf(w: EmqxWorkload): MountedVolume[] {
  const volumes = asArray(w.podSpec.volumes);
  return asArray(w.container.volumeMounts).flatMap((m) => {
    const volume = volumes.find((v) => v.name === m.name);
    const mountPath = asString(m.mountPath);
    return volume && mountPath ? [{ mountPath: mountPath.replace(/\/+$/, ''), volume }] : [];
  });
}

function mountFor(mounts: readonly MountedVolume[], file: string): MountedVolume | undefined {
  return mounts.filter((m) => file.startsWith(`${m.mountPath}/`)).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
}

const certificates = (objects: readonly K8sObject[], namespace: string | undefined) =>
  objects.filter((o) => o.kind === 'Certificate' && o.apiVersion.startsWith('cert-manager.io/') && (o.metadata.namespace ?? '') === (namespace ?? ''));

export const emqxTlsCertificateMount: Rule = {
  id: 'emqx/tls-certificate-mount',
  severity: 'error',
  description: "Every file an MQTT/TLS or WSS listener reads from a mounted volume is on one, and a cert-manager Certificate's Secret is mounted where the listeners read it.",
  fix: 'mount the Certificate\'s secretName read-only and point EMQX_LISTENERS__{SSL,WSS}__DEFAULT__SSL_OPTIONS__{CERTFILE,KEYFILE,CACERTFILE} at files under that mount (components/tls).',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of emqxWorkloadsWithSettings(objects)) {
      const s = w.settings;
      const mounts = mountsOf(w);
      const certs = certificates(objects, s.namespace);
      const readSecrets = new Set<string>();
      for (const configPath of LISTENER_FILES) {
        const variable = s.get(configPath);
        // Paths under /opt/emqx/etc are the image's own files (the bundled test certificates).
        if (!variable || !variable.value.startsWith('/') || variable.value.startsWith('/opt/emqx/etc/')) continue;
        const mount = mountFor(mounts, variable.value);
        if (!mount) {
          findings.push(findingFor(this, w.object, `${variable.name} reads ${variable.value}, but no volume is mounted there: the listener fails to start.`, { path: s.fieldPath(variable), locate: variable.name }));
          continue;
        }
        const secretName = asString(asRecord(mount.volume.secret).secretName);
        if (secretName !== undefined) readSecrets.add(secretName);
      }
      for (const cert of certs) {
        const secretName = asString(asRecord(cert.spec).secretName);
        if (secretName !== undefined && !readSecrets.has(secretName)) {
          findings.push(
            findingFor(this, cert, `Certificate ${cert.metadata.name} writes Secret ${secretName}, but no TLS listener of ${w.object.kind} ${w.object.metadata.name} reads its files: clients get the image's built-in test certificate.`, {
              path: 'spec.secretName',
            }),
          );
        }
      }
    }
    return findings;
  },
};

export const emqxTlsCertificateNames: Rule = {
  id: 'emqx/tls-certificate-names',
  severity: 'error',
  description: "The broker's Certificate names the client Service (short, namespaced and FQDN forms) and, for a StatefulSet, every pod's stable hostname, in the namespace the overlay renders into.",
  fix: 'list ../../components/tls/certificate-names under `transformers:` in the overlay (it fills in the namespace and cluster domain after `namespace:`; docs/components.md), and keep the names components/tls lists.',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of emqxWorkloadsWithSettings(objects)) {
      const s = w.settings;
      const mounted = new Set(mountsOf(w).map((m) => asString(asRecord(m.volume.secret).secretName)).filter((n): n is string => n !== undefined));
      const suffix = s.value('cluster.k8s.suffix') ?? 'svc.cluster.local';
      const ns = s.namespace;
      for (const cert of certificates(objects, ns)) {
        if (!mounted.has(asString(asRecord(cert.spec).secretName) ?? '')) continue;
        const names = new Set((Array.isArray(asRecord(cert.spec).dnsNames) ? (asRecord(cert.spec).dnsNames as unknown[]) : []).map(String));
        const wanted: string[] = [];
        for (const service of servicesSelecting(objects, w)) {
          // In-cluster names only: a LoadBalancer's public name is the user's to add (components/tls).
          const type = asString(asRecord(service.spec).type) ?? 'ClusterIP';
          if (asRecord(service.spec).clusterIP === 'None' || type !== 'ClusterIP') continue;
          const n = service.metadata.name;
          wanted.push(n, ...(ns ? [`${n}.${ns}`, `${n}.${ns}.svc`, `${n}.${ns}.${suffix}`] : []));
        }
        const governing = asString(asRecord(w.object.spec).serviceName);
        if (w.object.kind === 'StatefulSet' && governing && ns) wanted.push(`*.${governing}.${ns}.${suffix}`);
        const missing = wanted.filter((name) => !names.has(name) && !coveredByWildcard(name, names));
        const placeholders = [...names].filter((n) => /[A-Z]/.test(n));
        if (missing.length > 0 || placeholders.length > 0) {
          const parts = [
            missing.length > 0 ? `does not name ${missing.join(', ')}` : undefined,
            placeholders.length > 0 ? `still holds the placeholders ${placeholders.join(', ')}` : undefined,
          ].filter(Boolean);
          findings.push(findingFor(this, cert, `Certificate ${cert.metadata.name} ${parts.join(' and ')}: clients that verify the server name are refused.`, { path: 'spec.dnsNames', locate: 'dnsNames' }));
        }
      }
    }
    return findings;
  },
};

/** `*.a.b` covers `x.a.b` (one label), as TLS name matching does. */
function coveredByWildcard(name: string, names: ReadonlySet<string>): boolean {
  const dot = name.indexOf('.');
  return dot > 0 && names.has(`*${name.slice(dot)}`);
}
