import { type K8sObject, asArray, asRecord, asString } from '../model/object.ts';
// Secrets that are not in the render but that an object in it makes a controller write: a
// cert-manager Certificate (spec.secretName) or an External Secrets ExternalSecret (spec.target.name,
// defaulting to its own name). A reference to one is as good as a reference to a rendered Secret.

/** The keys the controller writes; `undefined` when only the store knows them (ExternalSecret dataFrom). */
export type ProducedKeys = ReadonlySet<string> | undefined;

/** cert-manager writes these three (ca.crt when the issuer knows its CA). */
export const CERTIFICATE_SECRET_KEYS: ReadonlySet<string> = new Set(['tls.crt', 'tls.key', 'ca.crt']);

export function producedSecrets(objects: readonly K8sObject[], namespace: string | undefined): Map<string, ProducedKeys> {
  const produced = new Map<string, ProducedKeys>();
  for (const o of objects) {
    if ((o.metadata.namespace ?? '') !== (namespace ?? '')) continue;
    const spec = asRecord(o.spec);
    if (o.kind === 'Certificate' && o.apiVersion.startsWith('cert-manager.io/')) {
      const name = asString(spec.secretName);
      if (name !== undefined) produced.set(name, CERTIFICATE_SECRET_KEYS);
    } else if (o.kind === 'ExternalSecret' && o.apiVersion.startsWith('external-secrets.io/')) {
      const name = asString(asRecord(spec.target).name) ?? o.metadata.name;
      const fromStore = asArray(spec.dataFrom).length > 0;
      const keys = new Set(asArray(spec.data).map((d) => asString(d.secretKey)).filter((k): k is string => k !== undefined));
      produced.set(name, fromStore ? undefined : keys);
    }
  }
  return produced;
}
