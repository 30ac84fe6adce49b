// External Secrets (components/external-secrets): an ExternalSecret that produces a Secret the EMQX
// pods read must produce every key they read from it, or the pods never start
// (CreateContainerConfigError).
import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { type Json, asArray, asRecord, asString } from '../../model/object.ts';
import { containersOf, emqxWorkloads } from '../../model/workloads.ts';

/** Secret name -> keys, for every secretKeyRef and secret volume item in the pod (all containers). */
function secretKeysRead(podSpec: Json, containers: readonly Json[]): Map<string, Set<string>> {
  const read = new Map<string, Set<string>>();
  const add = (name: string | undefined, key: string | undefined) => {
    if (name === undefined) return;
    const keys = read.get(name) ?? new Set<string>();
    if (key !== undefined) keys.add(key);
    read.set(name, keys);
  };
  for (const c of containers) {
    for (const e of asArray(c.env)) {
      const ref = asRecord(asRecord(e.valueFrom).secretKeyRef);
      add(asString(ref.name), asString(ref.key));
    }
  }
  for (const v of asArray(podSpec.volumes)) {
    const secret = asRecord(v.secret);
    const name = asString(secret.secretName);
    if (name === undefined) continue;
    add(name, undefined);
    for (const item of asArray(secret.items)) add(name, asString(item.key));
  }
  return read;
}

export const emqxExternalSecretTarget: Rule = {
  id: 'emqx/external-secret-target',
  severity: 'error',
  description: 'An ExternalSecret whose target is a Secret the EMQX pods read produces every key they read from it.',
  fix: 'add a `data` entry (secretKey + remoteRef) for each missing key, or set spec.target.name to the Secret the pods read (emqx-secrets).',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    const externalSecrets = objects.filter((o) => o.kind === 'ExternalSecret' && o.apiVersion.startsWith('external-secrets.io/'));
    for (const w of emqxWorkloads(objects)) {
      const read = secretKeysRead(w.podSpec, containersOf(w).map((c) => c.container));
      for (const es of externalSecrets.filter((e) => (e.metadata.namespace ?? '') === (w.object.metadata.namespace ?? ''))) {
        const spec = asRecord(es.spec);
        const target = asString(asRecord(spec.target).name) ?? es.metadata.name;
        const wanted = read.get(target);
        if (!wanted) continue;
        // dataFrom pulls keys whose names only the store knows: nothing to check here.
        if (asArray(spec.dataFrom).length > 0) continue;
        const produced = new Set(asArray(spec.data).map((d) => asString(d.secretKey)).filter((k): k is string => k !== undefined));
        const missing = [...wanted].filter((k) => !produced.has(k));
        if (missing.length > 0) {
          findings.push(
            findingFor(this, es, `ExternalSecret ${es.metadata.name} produces Secret ${target} without ${missing.join(', ')}, which ${w.object.kind} ${w.object.metadata.name} reads: its pods do not start.`, { path: 'spec.data' }),
          );
        }
      }
    }
    return findings;
  },
};

