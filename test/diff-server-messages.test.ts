// What `diff --server` makes of kubectl's answer, without a server: the message it quotes, the way
// through it offers, and what it never lets through (Secret values, hashes of them in names).
import { describe, expect, it } from 'vitest';
import { recreateRemedy } from '../scripts/lib/diff/danger.ts';
import { MASK } from '../scripts/lib/diff/mask.ts';
import { rejectionWarning, SERVER_SAID, serverWarnings } from '../scripts/lib/diff/server.ts';
import { serverMessage } from '../scripts/lib/tools/kubectl.ts';
import { withoutSecretValues } from '../scripts/lib/model/secret-values.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';

const NS = 'emqx-test';
const sts: K8sObject = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'emqx', namespace: NS } };

describe('diff --server messages', () => {
  it("quotes the server without kubectl's prefix and its deprecation warnings", () => {
    const stderr =
      'Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice\n' +
      'Error from server (Invalid): The RoleBinding "emqx-discovery" is invalid: roleRef: Invalid value: {"Name":"other"}: field is immutable\n';
    expect(serverMessage(stderr)).toBe('The RoleBinding "emqx-discovery" is invalid: roleRef: Invalid value: {"Name":"other"}: field is immutable');
  });

  it('offers the recreate remedy for an immutable field, and a fix of the field otherwise', () => {
    const immutable = rejectionWarning('o', sts, sts, 'The StatefulSet "emqx" is invalid: spec.serviceName: Invalid value: "x": field is immutable');
    expect(immutable).toEqual({
      overlay: 'o',
      rule: 'server-rejected',
      object: `StatefulSet ${NS}/emqx`,
      message: `${SERVER_SAID} The StatefulSet "emqx" is invalid: spec.serviceName: Invalid value: "x": field is immutable`,
      remedy: recreateRemedy(sts),
    });
    const invalid = rejectionWarning('o', sts, sts, 'The StatefulSet "emqx" is invalid: metadata.labels: Invalid value: "x y": a valid label must be ...');
    expect(invalid.remedy).toContain('Change the overlay so that the API server accepts this object');
  });

  it("never repeats a Secret's value or its base64, and names a generated Secret without its hash", () => {
    const raw: K8sObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'emqx-keys-7g5k2m9t4c', namespace: NS }, data: { cookie: Buffer.from('s3cr3t-cookie').toString('base64') } };
    const shown: K8sObject = { ...raw, metadata: { ...raw.metadata, name: 'emqx-keys-<hash>' } };
    const answer = `The Secret "emqx-keys-7g5k2m9t4c" is invalid: data[cookie]: Invalid value: "s3cr3t-cookie" (${Buffer.from('s3cr3t-cookie').toString('base64')})`;
    expect(withoutSecretValues(answer, raw)).not.toContain('s3cr3t');
    const w = rejectionWarning('o', raw, shown, answer);
    expect(w.object).toBe(`Secret ${NS}/emqx-keys-<hash>`);
    expect(w.message).toBe(`${SERVER_SAID} The Secret "emqx-keys-<hash>" is invalid: data[cookie]: Invalid value: "${MASK}" (${MASK})`);
  });

  it('starts no control plane when no target changed', async () => {
    // Nothing to start: no binaries are needed, and the settings are never read.
    expect(await serverWarnings([], { secrets: new Map(), namespaceLabels: () => ({}) })).toEqual([]);
  });
});
