// npm run verify on a real control plane (describeWithControlPlane: skipped without the set-up,
// failing under CI=true). One control plane for the file: the real overlays, then the mistakes a
// schema cannot see, each a small overlay on top of a real one in its own namespace.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../scripts/lib/tools/control-plane/start.ts';
import { findKustomize } from '../scripts/lib/tools/kustomize.ts';
import { listOverlays, type Overlay } from '../scripts/lib/model/overlays.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import type { Finding, OverlayReport } from '../scripts/lib/report/finding.ts';
import { loadValidateConfig } from '../scripts/lib/validate/config.ts';
import { verifyTargets } from '../scripts/lib/verify/run.ts';
import { describeWithControlPlane } from './helpers/control-plane.ts';
import { useTempDirs } from './helpers/tmp.ts';

/** A kustomization on top of a real overlay, in its own namespace, with extra files. */
async function overlayOnTop(root: string, name: string, base: string, body: string, files: Record<string, string> = {}): Promise<Overlay> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  const relative = path.relative(dir, path.join(REPO_ROOT, 'overlays', base)).split(path.sep).join('/');
  await writeFile(path.join(dir, 'kustomization.yaml'), `---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: verify-${name}\nresources:\n  - ${relative}\n${body}`);
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
  return { name, dir };
}

describeWithControlPlane('npm run verify on a control plane', () => {
  let cp: ControlPlane;
  let real: OverlayReport[];
  let mistakes: OverlayReport[];
  const notes: string[] = [];
  const tempDir = useTempDirs();

  beforeAll(async () => {
    cp = await startControlPlane();
    const kustomize = await findKustomize();
    const externalSecrets = loadValidateConfig().externalSecrets;
    const root = await tempDir();
    const fixtures = await Promise.all([
      overlayOnTop(root, 'service-port-twice', 'single-node', 'patches:\n  - target: {kind: Service, name: emqx}\n    patch: |-\n      - op: add\n        path: /spec/ports/-\n        value: {name: mqtt-again, port: 1883, targetPort: mqtt, protocol: TCP}\n'),
      overlayOnTop(root, 'label-too-long', 'single-node', 'patches:\n  - path: service-label.yaml\n', {
        'service-label.yaml': `---\napiVersion: v1\nkind: Service\nmetadata:\n  name: emqx-headless\n  labels:\n    team: ${'x'.repeat(64)}\n`,
      }),
      overlayOnTop(root, 'pdb-both', 'single-node', 'patches:\n  - target: {kind: PodDisruptionBudget, name: emqx}\n    patch: |-\n      - op: add\n        path: /spec/minAvailable\n        value: 1\n'),
      overlayOnTop(root, 'name-capitals', 'single-node', '  - configmap-extra.yaml\n', {
        'configmap-extra.yaml': '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: EmqxExtra\ndata:\n  note: capitals\n',
      }),
      overlayOnTop(root, 'container-port-twice', 'single-node', 'patches:\n  - target: {kind: StatefulSet, name: emqx}\n    patch: |-\n      - op: add\n        path: /spec/template/spec/containers/0/ports/-\n        value: {name: mqtt, containerPort: 11883}\n'),
      overlayOnTop(root, 'role-no-verbs', 'single-node', '  - role-extra.yaml\n', {
        'role-extra.yaml': '---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: emqx-extra\nrules:\n  - apiGroups: [""]\n    resources: [endpoints]\n    verbs: []\n',
      }),
      overlayOnTop(root, 'configmap-key-space', 'single-node', 'patches:\n  - target: {kind: ConfigMap}\n    patch: |-\n      - op: add\n        path: /data/bad key\n        value: "1"\n'),
      overlayOnTop(root, 'container-port-number-twice', 'single-node', 'patches:\n  - target: {kind: StatefulSet, name: emqx}\n    patch: |-\n      - op: add\n        path: /spec/template/spec/containers/0/ports/-\n        value: {name: mqtt-again, containerPort: 1883}\n'),
      overlayOnTop(root, 'deprecated-annotation', 'deployment-ip', 'patches:\n  - target: {kind: Deployment, name: emqx}\n    patch: |-\n      - op: add\n        path: /spec/template/metadata/annotations\n        value: {scheduler.alpha.kubernetes.io/critical-pod: ""}\n'),
      overlayOnTop(root, 'address-type-ip', 'statefulset-hostname-pvc', 'configMapGenerator:\n  - name: emqx-env\n    behavior: merge\n    literals:\n      - EMQX_CLUSTER__K8S__ADDRESS_TYPE=ip\n'),
      overlayOnTop(root, 'reads-secrets', 'statefulset-hostname-pvc', 'patches:\n  - target: {kind: Role, name: emqx-discovery}\n    patch: |-\n      - op: add\n        path: /rules/-\n        value: {apiGroups: [""], resources: [secrets], verbs: [get, list]}\n'),
      overlayOnTop(root, 'never-ready', 'single-node', 'patches:\n  - target: {kind: StatefulSet, name: emqx}\n    patch: |-\n      - op: add\n        path: /spec/template/spec/nodeSelector\n        value: {disktype: none-such}\n'),
      // `yes` is a string to Argo CD and Flux (YAML 1.2/JSON), a boolean to kubectl's YAML 1.1.
      overlayOnTop(root, 'yaml11-boolean-value', 'single-node', 'configMapGenerator:\n  - name: emqx-env\n    behavior: merge\n    literals:\n      - EXTRA_FLAG=yes\n'),
      overlayOnTop(root, 'discovery-forbidden', 'statefulset-hostname-pvc', 'patches:\n  - target: {kind: Role, name: emqx-discovery}\n    patch: |-\n      - op: replace\n        path: /rules/0/resources\n        value: [pods]\n'),
    ]);
    real = await verifyTargets(listOverlays(), { kustomize, controlPlane: cp, externalSecrets, note: (l) => notes.push(l) });
    mistakes = await verifyTargets(fixtures, { kustomize, controlPlane: cp, externalSecrets, waitMs: 6_000, note: (l) => notes.push(l) });
  }, 600_000);
  afterAll(async () => {
    await cp?.stop();
  });

  const findingsOf = (reports: OverlayReport[], name: string): readonly Finding[] => reports.find((r) => r.overlay.name === name)!.findings;

  it('passes every real overlay, with discovery checked the way EMQX does it', () => {
    expect(real.map((r) => r.overlay.name)).toEqual(['deployment-ip', 'production', 'single-node', 'statefulset-hostname-pvc']);
    expect(real.flatMap((r) => r.findings)).toEqual([]);
    expect(notes).toContainEqual(expect.stringMatching(/^statefulset-hostname-pvc: .*k8s discovery as ServiceAccount emqx: Endpoints emqx-headless answers 200, lists all 3 pods, peer names \(address_type hostname\)/));
    expect(notes).toContainEqual(expect.stringMatching(/^deployment-ip: .*address_type ip\) equal every EMQX_NODE__NAME/));
    // The SRV answer computed from the EndpointSlices, as cluster DNS serves it, equals the Endpoints'.
    expect(notes).toContainEqual(
      expect.stringMatching(/^production: .*dns discovery \(srv\): the records of emqx-headless\.emqx-production\.svc\.cluster\.local give all 3 node names, computed from the EndpointSlices of Service emqx-headless as cluster DNS serves them; the same answer as its Endpoints give/),
    );
    expect(notes).toContainEqual(expect.stringMatching(/^single-node: .*discovery strategy singleton: no Endpoints request/));
    expect(notes).toContainEqual(expect.stringMatching(/^statefulset-hostname-pvc: .*pod emqx-0 deleted and back with the same name and claims \(emqx-data-emqx-0\)/));
    expect(notes).toContainEqual(expect.stringMatching(/^statefulset-hostname-pvc: .*ServiceAccount emqx is denied get\/list secrets and create pods\/exec/));
  });

  const rejected = (name: string, kind: string, object: string) => {
    const found = findingsOf(mistakes, name).filter((f) => f.rule === 'server/rejected');
    expect(found.map((f) => `${f.kind} ${f.name}`)).toEqual([`${kind} ${object}`]);
    return found[0]!;
  };

  it('a Service port listed twice: rejected, naming the Service and its source', () => {
    const f = rejected('service-port-twice', 'Service', 'emqx');
    expect(f).toMatchObject({ overlay: 'service-port-twice', namespace: 'verify-service-port-twice', file: 'base/service.yaml', severity: 'error' });
    expect(f.path).toBe('spec.ports');
    expect(f.line).toBeGreaterThan(1);
    expect(f.message).toMatch(/the API server rejected it:[\s\S]*duplicate entries for key \[port=1883,protocol="TCP"\]/);
  });

  it('a label value over 63 bytes: rejected, pointing at the patch that sets it', () => {
    const f = rejected('label-too-long', 'Service', 'emqx-headless');
    expect(f.message).toMatch(/must be no more than 63/);
    expect(f.file).toMatch(/service-label\.yaml$/);
    expect(f.line).toBe(7);
  });

  it('a PodDisruptionBudget with minAvailable and maxUnavailable: rejected', () => {
    const f = rejected('pdb-both', 'PodDisruptionBudget', 'emqx');
    expect(f.message).toMatch(/minAvailable/);
    expect(f.file).toBe('base/poddisruptionbudget.yaml');
  });

  it('an object name with capitals: rejected, naming its file', () => {
    const f = rejected('name-capitals', 'ConfigMap', 'EmqxExtra');
    expect(f.message).toMatch(/lowercase RFC 1123/);
    expect(f.file).toMatch(/name-capitals\/configmap-extra\.yaml$/);
  });

  it('two container ports with the same name: rejected, naming the StatefulSet', () => {
    const f = rejected('container-port-twice', 'StatefulSet', 'emqx');
    expect(f.message).toMatch(/ports\[\d+\]\.name: Duplicate value: "mqtt"/);
    expect(f.path).toMatch(/^spec\.template\.spec\.containers\[0\]\.ports\[\d+\]\.name$/);
  });

  it('a Role rule with no verbs: rejected, naming the Role', () => {
    const f = rejected('role-no-verbs', 'Role', 'emqx-extra');
    expect(f.message).toMatch(/verbs/);
    expect(f.file).toMatch(/role-no-verbs\/role-extra\.yaml$/);
  });

  it('a ConfigMap key with a space (found beyond the issue\'s six): rejected, naming the ConfigMap', () => {
    const f = rejected('configmap-key-space', 'ConfigMap', findingsOf(mistakes, 'configmap-key-space')[0]!.name);
    expect(f.name).toMatch(/^emqx-env-/);
    expect(f.message).toMatch(/bad key.*valid config key/s);
  });

  it('a container port number listed twice (beyond the six): rejected by server-side apply itself', () => {
    const f = rejected('container-port-number-twice', 'StatefulSet', 'emqx');
    expect(f.message).toMatch(/duplicate entries for key \[containerPort=1883,protocol="TCP"\]/);
    expect(f.path).toBe('spec.template.spec.containers[name="emqx"].ports');
  });

  it('a non-functional annotation in the pod template: applied, with the server\'s warning as a server/warning finding', () => {
    const found = findingsOf(mistakes, 'deprecated-annotation');
    expect(found.map((f) => `${f.rule} ${f.severity} ${f.kind} ${f.name}`)).toEqual(['server/warning warning Deployment emqx']);
    expect(found[0]!.message).toMatch(/^the API server warned: spec\.template\.metadata\.annotations\[scheduler\.alpha\.kubernetes\.io\/critical-pod\]: non-functional/);
  });

  it('a workload that never gets Ready: verify/not-ready saying what it waited for, how long, and why', () => {
    const found = findingsOf(mistakes, 'never-ready');
    expect(found.map((f) => `${f.rule} ${f.kind} ${f.name}`)).toEqual(['verify/not-ready StatefulSet emqx']);
    expect(found[0]!.message).toMatch(/^waited [67]\.\d s for 1 of 1 replicas Ready; saw 0 of 1 replicas Ready/);
    expect(found[0]!.message).toMatch(/pod emqx-0: PodScheduled=False \(Unschedulable: 0\/\d+ nodes are available: .*node affinity\/selector/);
  });

  it('a Role that does not grant endpoints: discovery gets 403 as the pod ServiceAccount', () => {
    const found = findingsOf(mistakes, 'discovery-forbidden');
    expect(found.map((f) => `${f.rule} ${f.kind} ${f.name}`)).toEqual(['verify/discovery-endpoints StatefulSet emqx']);
    expect(found[0]!.message).toMatch(/as ServiceAccount verify-discovery-forbidden\/emqx, GET \/api\/v1\/namespaces\/verify-discovery-forbidden\/endpoints\/emqx-headless .* answered HTTP 403/);
  });

  it('peer names that are not the node names: verify/discovery-names for every pod, computed from the live Endpoints', () => {
    const found = findingsOf(mistakes, 'address-type-ip');
    expect(found.map((f) => `${f.rule} ${f.kind} ${f.name}`)).toEqual(Array(3).fill('verify/discovery-names StatefulSet emqx'));
    const ns = 'verify-address-type-ip';
    expect(found.map((f) => /^pod (emqx-\d) runs as (\S+),/.exec(f.message)?.slice(1))).toEqual([0, 1, 2].map((i) => [`emqx-${i}`, `emqx@emqx-${i}.emqx-headless.${ns}.svc.cluster.local`]));
    expect(found[0]!.message).toMatch(/k8s discovery \(Endpoints verify-address-type-ip\/emqx-headless, address_type ip\) gives its peers \[emqx@10\.0\.\d+\.\d+, emqx@10\.0\.\d+\.\d+, emqx@10\.0\.\d+\.\d+\]/);
    expect(found[0]!.path).toBe('spec.template.spec.containers[emqx].env[EMQX_NODE__NAME]');
  });

  it('a ServiceAccount that can read Secrets: verify/discovery-rbac naming it and what it may do', () => {
    const found = findingsOf(mistakes, 'reads-secrets');
    expect(found.map((f) => `${f.rule} ${f.kind} ${f.name}`)).toEqual(['verify/discovery-rbac ServiceAccount emqx']);
    expect(found[0]!.message).toMatch(/^ServiceAccount verify-reads-secrets\/emqx, .* is allowed get secrets, list secrets:/);
    expect(found[0]!.file).toBe('base/serviceaccount.yaml');
  });

  it('a ConfigMap value a YAML 1.1 reader takes for a boolean (`yes`) is applied as the string it is', () => {
    expect(findingsOf(mistakes, 'yaml11-boolean-value')).toEqual([]);
  });

  it('the mistakes overlays report nothing else', () => {
    for (const name of ['service-port-twice', 'label-too-long', 'pdb-both', 'name-capitals', 'container-port-twice', 'role-no-verbs', 'configmap-key-space', 'container-port-number-twice']) {
      expect(findingsOf(mistakes, name).map((f) => f.rule)).toEqual(['server/rejected']);
    }
  });
});

