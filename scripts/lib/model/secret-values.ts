// A Secret's values never reach a message, a log or a PR comment, whatever a tool or the API server
// quoted: diff, verify and diff --server all mask through here.
import type { K8sObject } from './object.ts';

/** What stands in for a Secret's value wherever one would be shown. */
export const MASK = '<masked>';

/** A Secret's values (and their base64) never reach a message, whatever the server quoted. */
export function withoutSecretValues(message: string, object: K8sObject): string {
  if (object.kind !== 'Secret') return message;
  const values: string[] = [];
  for (const field of ['data', 'stringData']) {
    const map = object[field];
    if (map === null || typeof map !== 'object') continue;
    for (const value of Object.values(map as Record<string, unknown>)) {
      if (typeof value !== 'string' || value.length < 3) continue;
      values.push(value, field === 'data' ? Buffer.from(value, 'base64').toString('utf8') : Buffer.from(value).toString('base64'));
    }
  }
  return values.filter((v) => v.length >= 3).sort((a, b) => b.length - a.length).reduce((text, v) => text.split(v).join(MASK), message);
}
