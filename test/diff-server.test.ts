// The diff's two judges on the same changes: the static analysis (danger.ts, fast, offline) and a
// real kube-apiserver (`npm run diff -- --server`). They must agree on what a sync cannot apply;
// where they did not, the static analysis was fixed (the server is the truth).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findWarnings } from '../scripts/lib/diff/danger.ts';
import { SERVER_SAID, serverWarnings, type ServerTarget } from '../scripts/lib/diff/server.ts';
import type { DiffWarning } from '../scripts/lib/diff/types.ts';
import type { ControlPlane } from '../scripts/lib/tools/control-plane/start.ts';
import { startControlPlane } from '../scripts/lib/tools/control-plane/start.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';
import { loadValidateConfig } from '../scripts/lib/validate/config.ts';
import { describeWithControlPlane } from './helpers/control-plane.ts';
import { only, renderRepoOverlays } from './helpers/render.ts';

const OVERLAY = 'statefulset-hostname-pvc';
const NAMESPACE = `emqx-${OVERLAY}`;
const LABELS = { 'app.kubernetes.io/part-of': 'emqx', 'pod-security.kubernetes.io/enforce': 'restricted' };

type Objects = K8sObject[];
type Edit = (objects: Objects) => void;
const sts = (objects: Objects): any => only(objects, 'StatefulSet', 'emqx');

interface Case {
  readonly name: string;
  readonly edit: Edit;
  /** Both must refuse it (true) or both accept it (false). */
  readonly refused: boolean;
  /** What the server's message names. */
  readonly field?: string;
  readonly object?: string;
}

const CASES: readonly Case[] = [
  { name: 'vct-size', refused: true, field: 'spec.volumeClaimTemplates', edit: (o) => void (sts(o).spec.volumeClaimTemplates[0].spec.resources.requests.storage = '20Gi') },
  {
    name: 'vct-labels',
    refused: true,
    field: 'spec.volumeClaimTemplates',
    edit: (o) => {
      const t = sts(o).spec.volumeClaimTemplates[0];
      // `y` on purpose: YAML 1.1 (kubectl) reads it as a boolean; what is sent must stay a string.
      t.metadata.labels = { ...t.metadata.labels, tier: 'y' };
    },
  },
  {
    name: 'selector',
    refused: true,
    field: 'spec.selector',
    edit: (o) => {
      const s = sts(o);
      s.spec.selector.matchLabels.tier = 'broker';
      s.spec.template.metadata.labels.tier = 'broker';
    },
  },
  { name: 'service-name', refused: true, field: 'spec.serviceName', edit: (o) => void (sts(o).spec.serviceName = 'emqx-headless-2') },
  { name: 'pod-management-policy', refused: true, field: 'spec.podManagementPolicy', edit: (o) => void (sts(o).spec.podManagementPolicy = 'OrderedReady') },
  // Left out, the field defaults to OrderedReady: the same refusal.
  { name: 'pod-management-policy-dropped', refused: true, field: 'spec.podManagementPolicy', edit: (o) => void delete sts(o).spec.podManagementPolicy },
  { name: 'cluster-ip-set', refused: true, field: 'spec.clusterIPs[0]', object: 'Service', edit: (o) => void ((only(o, 'Service', 'emqx') as any).spec.clusterIP = 'None') },
  {
    name: 'role-ref',
    refused: true,
    field: 'roleRef',
    object: 'RoleBinding',
    edit: (o) => {
      (only(o, 'RoleBinding') as any).roleRef.name = 'emqx-discovery-2';
    },
  },
  { name: 'replicas', refused: false, edit: (o) => void (sts(o).spec.replicas = 5) },
  { name: 'revision-history-limit', refused: false, edit: (o) => void (sts(o).spec.revisionHistoryLimit = 3) },
  { name: 'pod-template-env', refused: false, edit: (o) => void sts(o).spec.template.spec.containers[0].env.push({ name: 'EXTRA_SETTING', value: 'on' }) },
  // The server keeps the allocated address when the field is left out: the static rule used to refuse this.
  { name: 'cluster-ip-dropped', refused: false, edit: (o) => void delete (only(o, 'Service', 'emqx-headless') as any).spec.clusterIP },
  // What the server fills into a claim template anyway: leaving it out is no change to it.
  {
    name: 'vct-defaults-dropped',
    refused: false,
    edit: (o) => {
      const t = sts(o).spec.volumeClaimTemplates[0];
      delete t.apiVersion;
      delete t.kind;
      delete t.spec.volumeMode;
    },
  },
  { name: 'retention-policy', refused: false, edit: (o) => void (sts(o).spec.persistentVolumeClaimRetentionPolicy.whenScaled = 'Delete') },
  { name: 'update-strategy', refused: false, edit: (o) => void (sts(o).spec.updateStrategy = { type: 'OnDelete' }) },
  { name: 'min-ready-seconds', refused: false, edit: (o) => void (sts(o).spec.minReadySeconds = 10) },
  { name: 'service-selector', refused: false, edit: (o) => void ((only(o, 'Service', 'emqx') as any).spec.selector.tier = 'broker') },
  { name: 'role-rules', refused: false, edit: (o) => void (only(o, 'Role') as any).rules[0].verbs.pop() },
];

/** The render in a namespace of its own per case, so that every case starts from its base. */
function inNamespace(objects: Objects, namespace: string): Objects {
  return JSON.parse(JSON.stringify(objects).replaceAll(NAMESPACE, namespace)) as Objects;
}

describeWithControlPlane('diff --server and the static analysis agree', () => {
  let cp: ControlPlane;
  const fromServer = new Map<string, DiffWarning[]>();
  const fromStatic = new Map<string, DiffWarning[]>();

  beforeAll(async () => {
    const rendered = (await renderRepoOverlays()).get(OVERLAY)!;
    cp = await startControlPlane();
    const targets: ServerTarget[] = CASES.map((c) => {
      const base = inNamespace(rendered, `emqx-${c.name}`);
      const head = structuredClone(base);
      c.edit(head);
      fromStatic.set(c.name, findWarnings(c.name, base, head));
      return { name: c.name, base, head };
    });
    const warnings = await serverWarnings(targets, { controlPlane: cp, secrets: loadValidateConfig().externalSecrets, namespaceLabels: () => LABELS });
    CASES.forEach((c, i) => fromServer.set(c.name, warnings[i]!));
  }, 180_000);

  afterAll(async () => {
    await cp?.stop();
  });

  it.each(CASES.filter((c) => c.refused).map((c) => [c.name, c] as const))('%s: refused by both, the server quoted, the object named', (name, c) => {
    const statics = fromStatic.get(name)!;
    expect(statics.map((w) => w.rule)).toEqual(['immutable-field']);
    const server = fromServer.get(name)!;
    expect(server).toHaveLength(1);
    const [w] = server;
    expect(w!.rule).toBe('server-rejected');
    expect(w!.overlay).toBe(name);
    expect(w!.object).toBe(statics[0]!.object);
    expect(w!.object).toMatch(new RegExp(`^${c.object ?? 'StatefulSet'} emqx-${name}/`));
    expect(w!.message.startsWith(`${SERVER_SAID} `)).toBe(true);
    expect(w!.message).toContain(`${c.field}:`);
    expect(w!.message).toMatch(/field is immutable|may not change once set|Forbidden: updates to statefulset spec/);
    // The same way through as the static warning: recreate it (orphaning what it owns).
    expect(w!.remedy).toBe(statics[0]!.remedy);
  });

  it('applies the production overlay (custom resources on the pinned CRDs, outside-git Secrets) without a false warning', async () => {
    const rendered = (await renderRepoOverlays()).get('production')!;
    const head = structuredClone(rendered);
    sts(head).spec.replicas = 5;
    expect(findWarnings('production', rendered, head)).toEqual([]);
    const [warnings] = await serverWarnings([{ name: 'production', base: rendered, head }], { controlPlane: cp, secrets: loadValidateConfig().externalSecrets, namespaceLabels: () => LABELS });
    expect(warnings).toEqual([]);
    const kinds = JSON.parse(await cp.kubectlOk(['get', 'certificates,externalsecrets,podmonitors', '-n', 'emqx-production', '-o', 'json'])) as { items: K8sObject[] };
    expect([...new Set(kinds.items.map((o) => o.kind))].sort()).toEqual(['Certificate', 'ExternalSecret', 'PodMonitor']);
  }, 120_000);

  it.each(CASES.filter((c) => !c.refused).map((c) => [c.name] as const))('%s: accepted by both, no warning from either', (name) => {
    expect(fromStatic.get(name)).toEqual([]);
    expect(fromServer.get(name)).toEqual([]);
  });
});
