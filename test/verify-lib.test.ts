// verify's pure parts, no control plane: EMQX's peer-name rules, the waves that keep targets apart,
// the namespace labels read from the GitOps folders, where a rejection points, and the rule docs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { renderOverlays } from '../scripts/lib/model/render.ts';
import { parseObjects } from '../scripts/lib/model/render-stream.ts';
import { hasPath, rejectedField } from '../scripts/lib/verify/apply.ts';
import { serverMessage } from '../scripts/lib/tools/kubectl.ts';
import { k8sPeerName, nodeNameOf } from '../scripts/lib/verify/discovery.ts';
import { namespaceLabels } from '../scripts/lib/verify/namespaces.ts';
import { zonesRequired } from '../scripts/lib/verify/nodes.ts';
import { verifyRuleList } from '../scripts/lib/verify/rules.ts';
import { LABEL_SOURCES, waitMsFromEnv, waves } from '../scripts/lib/verify/run.ts';

describe('EMQX k8s discovery peer names (ekka_cluster_k8s)', () => {
  const a = { ip: '10.0.0.7', hostname: 'emqx-1' };
  it('follows address_type and the suffix', () => {
    expect(k8sPeerName('emqx', a, 'ip', 'emqx-headless', 'ns', 'svc.cluster.local')).toBe('emqx@10.0.0.7');
    expect(k8sPeerName('emqx', a, 'hostname', 'emqx-headless', 'ns', 'svc.cluster.local')).toBe('emqx@emqx-1.emqx-headless.ns.svc.cluster.local');
    expect(k8sPeerName('emqx', a, 'dns', 'emqx-headless', 'ns', 'pod.cluster.local')).toBe('emqx@10-0-0-7.ns.pod.cluster.local');
    expect(k8sPeerName('emqx', a, 'hostname', 'emqx-headless', 'ns', '')).toBe('emqx@emqx-1');
  });
  it('takes the node name from EMQX_NODE__NAME, else EMQX_NAME@EMQX_HOST', () => {
    expect(nodeNameOf(new Map([['EMQX_NODE__NAME', 'a@b']]))).toBe('a@b');
    expect(nodeNameOf(new Map([['EMQX_HOST', 'h']]))).toBe('emqx@h');
    expect(nodeNameOf(new Map())).toBeUndefined();
  });
});

describe('waves', () => {
  it('never puts two targets sharing a namespace in one wave, and keeps their order', () => {
    const t = (name: string, ...namespaces: string[]) => ({ name, namespaces });
    const out = waves([t('single-node', 'emqx-single-node'), t('production', 'emqx-production'), t('store-1', 'emqx-single-node'), t('store-2', 'emqx-single-node'), t('eu', 'emqx-production')]);
    expect(out.map((w) => w.map((x) => x.name))).toEqual([['single-node', 'production'], ['store-1', 'eu'], ['store-2']]);
  });
});

describe('namespace labels from the GitOps folders', () => {
  it('gives every overlay namespace Pod Security restricted, enforced, as gitops/flux and gitops/argocd do', async () => {
    const { rendered } = await renderOverlays(await findKustomize(), LABEL_SOURCES);
    expect(LABEL_SOURCES.map((s) => s.name)).toEqual(['gitops/argocd', 'gitops/flux']);
    const labels = namespaceLabels(rendered.flatMap((r) => parseObjects(r.yaml)));
    expect(labels.labelsFor('emqx-production')).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted', 'app.kubernetes.io/part-of': 'emqx' });
    expect(labels.labelsFor('verify-some-test')).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
  });
});

describe('where a rejection points', () => {
  it('takes the field and the quoted value from validation and server-side apply messages', () => {
    expect(rejectedField('The StatefulSet "emqx" is invalid: spec.template.spec.containers[0].ports[5].name: Duplicate value: "mqtt"')).toEqual({ path: 'spec.template.spec.containers[0].ports[5].name', value: 'mqtt' });
    expect(rejectedField('Error from server: failed to create typed patch object (ns/emqx; /v1, Kind=Service): .spec.ports: duplicate entries for key [port=1883,protocol="TCP"]')).toEqual({ path: 'spec.ports' });
    expect(rejectedField('Error from server (Invalid): ConfigMap "EmqxExtra" is invalid: metadata.name: Invalid value: "EmqxExtra": a lowercase RFC 1123 subdomain')).toEqual({ path: 'metadata.name', value: 'EmqxExtra' });
  });
  it('finds the object a warning is about by the field it names', () => {
    const sts = { spec: { template: { metadata: { annotations: { 'scheduler.alpha.kubernetes.io/critical-pod': '' } }, spec: { containers: [{ name: 'emqx', ports: [{}] }] } } } };
    expect(hasPath(sts, 'spec.template.metadata.annotations[scheduler.alpha.kubernetes.io/critical-pod]')).toBe(true);
    expect(hasPath(sts, 'spec.template.spec.containers[name="emqx"].ports[0]')).toBe(true);
    expect(hasPath(sts, 'spec.template.spec.containers[1]')).toBe(false);
  });
  it("quotes the server without kubectl's warnings and STDIN preamble", () => {
    expect(serverMessage('Warning: x\nError from server (Invalid): error when creating "STDIN": Role "r" is invalid: rules[0].verbs: Required value\n')).toBe('Role "r" is invalid: rules[0].verbs: Required value');
  });
});

describe('zones a render requires', () => {
  it('reads required node affinity on topology.kubernetes.io/zone', () => {
    const sts = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'emqx', namespace: 'n' }, spec: { template: { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['eu-b', 'eu-a'] }] }] } } } } } } };
    expect(zonesRequired([sts])).toEqual(['eu-a', 'eu-b']);
  });
});

describe('VERIFY_WAIT_SECONDS', () => {
  it('defaults to 120 s and refuses nonsense', () => {
    expect(waitMsFromEnv({})).toBe(120_000);
    expect(waitMsFromEnv({ VERIFY_WAIT_SECONDS: '5' })).toBe(5_000);
    expect(() => waitMsFromEnv({ VERIFY_WAIT_SECONDS: '-1' })).toThrow(/VERIFY_WAIT_SECONDS must be a number of seconds greater than 0/);
  });
});

describe('docs/verify.md', () => {
  it('lists exactly the rules verify reports, with their severity, description and fix', () => {
    const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'verify.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([^`]+)` \| (error|warning) \| (.+) \| (.+) \|$/gm)].map((m) => ({ id: m[1], severity: m[2], description: m[3], fix: m[4] }));
    expect(rows).toEqual(verifyRuleList().map((r) => ({ id: r.id, severity: r.severity, description: r.description, fix: r.fix })));
  });
});
