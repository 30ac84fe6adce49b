// The value a key of a Secret holds, when that Secret is in the render (a secretGenerator, or a
// Secret manifest committed to an overlay). The rules use it only to compare with published
// defaults: a value read here never goes into a finding, a log or an error message.
import { Buffer } from 'node:buffer';
import { type K8sObject, asRecord, findObject } from '../model/object.ts';

export interface StoredSecretValue {
  readonly secret: K8sObject;
  /** Where the value is written: `stringData` (plain) or `data` (base64). */
  readonly field: 'data' | 'stringData';
  readonly value: string;
}

/**
 * The decoded value of `key` in the rendered Secret `name`, or undefined when the Secret is not in
 * the render (created outside git, or by a controller) or lacks the key. stringData wins over data,
 * as the API server merges it.
 */
export function renderedSecretValue(objects: readonly K8sObject[], namespace: string | undefined, name: string, key: string): StoredSecretValue | undefined {
  const secret = findObject(objects, 'Secret', name, namespace);
  if (!secret) return undefined;
  const plain = asRecord(secret.stringData)[key];
  if (typeof plain === 'string') return { secret, field: 'stringData', value: plain };
  const encoded = asRecord(secret.data)[key];
  if (typeof encoded === 'string') return { secret, field: 'data', value: Buffer.from(encoded, 'base64').toString('utf8') };
  return undefined;
}

/**
 * Compared without surrounding white space: a value written with `echo public | base64`, or a
 * secretGenerator file that ends with a newline, carries a trailing newline, and EMQX may read it
 * as HOCON, which trims it. Reporting such a value errs on the side of the credential.
 */
export function isDefaultValue(value: string, defaults: readonly string[]): boolean {
  return defaults.includes(value.trim());
}
