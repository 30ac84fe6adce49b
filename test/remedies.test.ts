// Every way through an immutable change that the diff's warnings and docs/gitops.md
// print, tried on a real API server with the repository's own render. "Sync" here is what Argo CD's
// server-side sync sends: a server-side apply of the render with its field manager. The commands
// run are the ones the texts print (taken from them, not retyped), so a text that drifts fails here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { provisionPendingClaims } from '../scripts/lib/tools/control-plane/provisioner.ts';
import { waitUntil } from '../scripts/lib/tools/control-plane/processes.ts';
import { startControlPlane, type ControlPlane } from '../scripts/lib/tools/control-plane/start.ts';
import { prepareNamespace } from '../scripts/lib/tools/control-plane/namespace.ts';
import { findWarnings } from '../scripts/lib/diff/danger.ts';
import { SYNC_FIELD_MANAGER } from '../scripts/lib/diff/server.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { loadValidateConfig } from '../scripts/lib/validate/config.ts';
import { describeWithControlPlane } from './helpers/control-plane.ts';
import { only, renderRepoOverlays } from './helpers/render.ts';

type Objects = K8sObject[];
const WAIT_MS = 90_000;
/** A scenario waits for pods several times: room for a loaded 2-core machine. */
const TEST_MS = 240_000;

interface Pod {
  uid: string;
  owner?: string;
  claim?: string;
  ready: boolean;
  env: Record<string, string>;
}

/** `kubectl ...` commands quoted in a text, as argument lists (the texts never quote an argument). */
function kubectlCommands(text: string): string[][] {
  return [...text.matchAll(/`(kubectl [^`]+)`/g)].map((m) => m[1]!.split(/\s+/).slice(1));
}

/** The shell block of a markdown section, as argument lists of its kubectl lines. */
function kubectlLinesIn(file: string, heading: string): string[][] {
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
  const start = text.indexOf(heading);
  if (start < 0) throw new Error(`${file} has no section ${heading}`);
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(start))![1]!;
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line.startsWith('kubectl '))
    .map((line) => line.split(/\s+/).slice(1));
}

describeWithControlPlane('the ways through an immutable change, on a real API server', () => {
  let cp: ControlPlane;
  let sts: Objects;
  let deployment: Objects;

  const inNamespace = (objects: Objects, from: string, to: string): Objects => JSON.parse(JSON.stringify(objects).replaceAll(from, to)) as Objects;
  const kubectl = (args: readonly string[], input?: string) => cp.kubectl(args, input === undefined ? {} : { input });
  const sync = (objects: Objects) => kubectl(['apply', '--server-side', `--field-manager=${SYNC_FIELD_MANAGER}`, '--force-conflicts', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  const json = async (args: readonly string[]): Promise<any> => JSON.parse(await cp.kubectlOk([...args, '-o', 'json']));

  async function pods(ns: string, selector = 'app.kubernetes.io/name=emqx'): Promise<Map<string, Pod>> {
    const list = await json(['get', 'pods', '-n', ns, '-l', selector]);
    return new Map(
      list.items
        .filter((p: any) => !p.metadata.deletionTimestamp)
        .map((p: any) => [
          p.metadata.name,
          {
            uid: p.metadata.uid,
            owner: p.metadata.ownerReferences?.find((o: any) => o.controller)?.uid,
            claim: p.spec.volumes?.find((v: any) => v.persistentVolumeClaim)?.persistentVolumeClaim.claimName,
            ready: p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ?? false,
            env: Object.fromEntries((p.spec.containers[0].env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value])),
          } satisfies Pod,
        ]),
    );
  }

  async function claims(ns: string): Promise<Map<string, { uid: string; size: string; phase: string }>> {
    const list = await json(['get', 'pvc', '-n', ns]);
    return new Map(list.items.map((c: any) => [c.metadata.name, { uid: c.metadata.uid, size: c.spec.resources.requests.storage, phase: c.status.phase }]));
  }

  async function uidOf(kind: string, name: string, ns: string): Promise<string> {
    return (await json(['get', kind, name, '-n', ns])).metadata.uid;
  }

  /** Waits (bounded) until `n` pods are Ready and, for a StatefulSet, every claim is Bound. */
  async function ready(ns: string, n: number, check: (p: Map<string, Pod>) => true | string = () => true): Promise<Map<string, Pod>> {
    let last = new Map<string, Pod>();
    await waitUntil(`${n} Ready pods in ${ns}`, WAIT_MS, async () => {
      await provisionPendingClaims(cp);
      last = await pods(ns);
      const count = [...last.values()].filter((p) => p.ready).length;
      if (count !== n || last.size !== n) return `${count} of ${n} Ready (${last.size} pods)`;
      const pending = [...(await claims(ns)).values()].filter((c) => c.phase !== 'Bound').length;
      return pending > 0 ? `${pending} claims not Bound` : check(last);
    });
    return last;
  }

  async function deploy(objects: Objects, ns: string, n: number): Promise<Map<string, Pod>> {
    await prepareNamespace(cp, { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' }, secrets: loadValidateConfig().externalSecrets });
    const out = await sync(objects);
    expect(out.stderr).toBe('');
    return ready(ns, n);
  }

  beforeAll(async () => {
    const rendered = await renderRepoOverlays();
    sts = rendered.get('statefulset-hostname-pvc')!;
    deployment = rendered.get('deployment-ip')!;
    cp = await startControlPlane();
  }, 120_000);

  afterAll(async () => {
    await cp?.stop();
  });

  /** The StatefulSet with bigger claims: the immutable change a persistence patch makes. */
  function biggerClaims(objects: Objects, size = '20Gi'): Objects {
    const head = structuredClone(objects);
    (only(head, 'StatefulSet', 'emqx') as any).spec.volumeClaimTemplates[0].spec.resources.requests.storage = size;
    return head;
  }

  it("docs/gitops.md's orphan delete and a sync adopt the same pods and claims; claims keep their size, new ones get the new template", async () => {
    // docs/gitops.md's command, in the namespace of the overlay it is tried on.
    const ns = 'emqx-statefulset-hostname-pvc';
    const before = await deploy(sts, ns, 3);
    const claimsBefore = await claims(ns);
    const oldSts = await uidOf('statefulset', 'emqx', ns);
    const head = biggerClaims(sts);

    const refused = await sync(head);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('spec.volumeClaimTemplates: Invalid value');
    expect(refused.stderr).toContain('field is immutable');

    const commands = kubectlLinesIn('docs/gitops.md', '## When the diff warns of an immutable field').map((c) => c.map((a) => a.replace('emqx-<overlay>', ns)));
    expect(commands).toEqual([['-n', ns, 'delete', 'statefulset', 'emqx', '--cascade=orphan']]);
    for (const c of commands) expect((await kubectl(c)).exitCode).toBe(0);
    expect((await sync(head)).exitCode).toBe(0);

    const newSts = await uidOf('statefulset', 'emqx', ns);
    expect(newSts).not.toBe(oldSts);
    // Adopted: the same pods (same UIDs), now owned by the new StatefulSet.
    const after = await ready(ns, 3, (p) => ([...p.values()].every((x) => x.owner === newSts) ? true : 'not adopted yet'));
    for (const [name, pod] of before) expect(after.get(name)).toMatchObject({ uid: pod.uid, claim: pod.claim, owner: newSts });
    const claimsAfter = await claims(ns);
    for (const [name, c] of claimsBefore) expect(claimsAfter.get(name)).toEqual({ ...c, size: '10Gi' });

    // A pod deleted afterwards comes back under its name, on its claim (which keeps its size).
    await cp.kubectlOk(['delete', 'pod', 'emqx-0', '-n', ns]);
    const back = await ready(ns, 3, (p) => (p.get('emqx-0') && p.get('emqx-0')!.uid !== before.get('emqx-0')!.uid ? true : 'emqx-0 not replaced yet'));
    expect(back.get('emqx-0')).toMatchObject({ claim: 'emqx-data-emqx-0', owner: newSts });
    expect((await claims(ns)).get('emqx-data-emqx-0')).toEqual(claimsBefore.get('emqx-data-emqx-0'));

    // Only a claim made from now on follows the new volumeClaimTemplates.
    (only(head, 'StatefulSet', 'emqx') as any).spec.replicas = 4;
    expect((await sync(head)).exitCode).toBe(0);
    await ready(ns, 4);
    const sizes = Object.fromEntries([...(await claims(ns))].map(([name, c]) => [name, c.size]));
    expect(sizes).toEqual({ 'emqx-data-emqx-0': '10Gi', 'emqx-data-emqx-1': '10Gi', 'emqx-data-emqx-2': '10Gi', 'emqx-data-emqx-3': '20Gi' });
  }, TEST_MS);

  it("the diff's remedy for a StatefulSet, run as printed: the orphan delete, then the new pod template rolls onto the same claims", async () => {
    const ns = 'emqx-remedy-rolls';
    const base = inNamespace(sts, 'emqx-statefulset-hostname-pvc', ns);
    const before = await deploy(base, ns, 3);
    const claimsBefore = await claims(ns);
    // An immutable change and a pod template change in one pull request.
    const head = biggerClaims(base);
    (only(head, 'StatefulSet', 'emqx') as any).spec.template.spec.containers[0].env.push({ name: 'EXTRA_SETTING', value: 'on' });

    const [warning, ...others] = findWarnings('statefulset-hostname-pvc', base, head);
    expect(others).toEqual([]);
    expect(warning!.rule).toBe('immutable-field');
    // The one command to run; the other one it quotes (`kubectl replace`) is the one that fails (next test).
    expect(kubectlCommands(warning!.remedy)).toEqual([['delete', 'statefulset', 'emqx', '-n', ns, '--cascade=orphan'], ['replace']]);
    expect(warning!.remedy).toContain('Use the orphan delete.');

    // docs/diff.md's table prints it with placeholders.
    const table = readFileSync(path.join(REPO_ROOT, 'docs', 'diff.md'), 'utf8');
    expect(table).toContain(`\`${['kubectl', ...kubectlCommands(warning!.remedy)[0]!].join(' ').replace(' emqx ', ' <name> ').replace(ns, '<ns>')}\``);
    expect((await kubectl(kubectlCommands(warning!.remedy)[0]!)).exitCode).toBe(0);
    expect((await sync(head)).exitCode).toBe(0);
    const newSts = await uidOf('statefulset', 'emqx', ns);
    // One pod at a time: while the template rolls, never fewer than two brokers are Ready.
    let fewestReady = 3;
    await waitUntil('the new pod template on every pod', WAIT_MS, async () => {
      const now = await pods(ns);
      fewestReady = Math.min(fewestReady, [...now.values()].filter((p) => p.ready).length);
      return [...now.values()].filter((x) => x.ready && x.env.EXTRA_SETTING === 'on' && x.owner === newSts).length === 3 ? true : 'rolling';
    }, 100);
    expect(fewestReady).toBeGreaterThanOrEqual(2);
    const after = await ready(ns, 3);
    for (const [name, pod] of before) {
      // Replaced (new pod template), under the same name, on the same claim.
      expect(after.get(name)!.uid).not.toBe(pod.uid);
      expect(after.get(name)!.claim).toBe(pod.claim);
    }
    const claimsAfter = await claims(ns);
    for (const [name, c] of claimsBefore) expect(claimsAfter.get(name)).toEqual(c);
  }, TEST_MS);

  it("plain `kubectl replace` (Argo CD's Replace=true) is rejected like the apply; `kubectl replace --force` (Force=true,Replace=true) recreates every pod", async () => {
    const ns = 'emqx-remedy-replace';
    const base = inNamespace(sts, 'emqx-statefulset-hostname-pvc', ns);
    const before = await deploy(base, ns, 3);
    const claimsBefore = await claims(ns);
    const headSts = JSON.stringify(only(biggerClaims(base), 'StatefulSet', 'emqx'));

    const replaced = await kubectl(['replace', '-f', '-'], headSts);
    expect(replaced.exitCode).toBe(1);
    expect(replaced.stderr).toContain('spec.volumeClaimTemplates: Invalid value');
    expect(replaced.stderr).toContain('field is immutable');
    expect([...(await pods(ns)).values()].map((p) => p.uid).sort()).toEqual([...before.values()].map((p) => p.uid).sort());

    const forced = await kubectl(['replace', '--force', '-f', '-'], headSts);
    expect(forced.exitCode).toBe(0);
    expect(forced.stdout).toContain('statefulset.apps "emqx" deleted');
    const after = await ready(ns, 3, (p) => ([...p.values()].every((x) => ![...before.values()].some((b) => b.uid === x.uid)) ? true : 'old pods still there'));
    // Every broker was deleted and recreated (new UIDs), not rolled; the claims are retained.
    for (const [name, pod] of before) expect(after.get(name)!.uid).not.toBe(pod.uid);
    const claimsAfter = await claims(ns);
    for (const [name, c] of claimsBefore) expect(claimsAfter.get(name)).toEqual(c);
  }, TEST_MS);

  it("the diff's remedy for a Deployment selector, run as printed: the old pods keep running until the new ReplicaSet's are Ready", async () => {
    const ns = 'emqx-remedy-deployment';
    const base = inNamespace(deployment, 'emqx-deployment-ip', ns);
    const before = await deploy(base, ns, 3);
    const head = structuredClone(base);
    const d = only(head, 'Deployment', 'emqx') as any;
    d.spec.selector.matchLabels.tier = 'broker';
    d.spec.template.metadata.labels.tier = 'broker';
    expect((await sync(head)).stderr).toContain('field is immutable');

    const [warning] = findWarnings('deployment-ip', base, head).filter((w) => w.rule === 'immutable-field');
    const commands = kubectlCommands(warning!.remedy);
    expect(commands).toEqual([['delete', 'deployment', 'emqx', '-n', ns, '--cascade=orphan'], ['get', 'replicasets', '-n', ns], ['replace']]);
    // docs/gitops.md prints the same command for any overlay.
    const guide = readFileSync(path.join(REPO_ROOT, 'docs', 'gitops.md'), 'utf8');
    expect(guide).toContain(`\`${['kubectl', ...commands[0]!].join(' ').replace(ns, 'emqx-<overlay>')}\``);
    const oldReplicaSet = (await json(['get', 'replicasets', '-n', ns])).items[0].metadata.name as string;
    expect((await kubectl(commands[0]!)).exitCode).toBe(0);
    expect((await sync(head)).exitCode).toBe(0);
    await ready(ns, 6);
    const listed = await kubectl(commands[1]!);
    expect(listed.exitCode).toBe(0);
    expect(listed.stdout).toContain(oldReplicaSet);
    const replicaSets = (await json(['get', 'replicasets', '-n', ns])).items as any[];
    // The old ReplicaSet is the one no Deployment owns; its pods are the ones that were running.
    expect(replicaSets.filter((r) => !r.metadata.ownerReferences?.length).map((r) => r.metadata.name)).toEqual([oldReplicaSet]);
    const running = await pods(ns);
    for (const [name, pod] of before) expect(running.get(name)?.uid).toBe(pod.uid);
  }, TEST_MS);

  it("the diff's remedy for a Service clusterIP and a RoleBinding roleRef, run as printed: delete, then the sync recreates it", async () => {
    const ns = 'emqx-remedy-recreate';
    const base = inNamespace(sts, 'emqx-statefulset-hostname-pvc', ns);
    await deploy(base, ns, 3);
    const head = structuredClone(base);
    (only(head, 'Service', 'emqx') as any).spec.clusterIP = 'None';
    (only(head, 'RoleBinding') as any).roleRef.name = 'emqx-discovery-2';
    expect((await sync(head)).exitCode).toBe(1);

    const warnings = findWarnings('statefulset-hostname-pvc', base, head);
    const commands = warnings.map((w) => kubectlCommands(w.remedy));
    expect(commands).toEqual([
      [['delete', 'rolebinding', 'emqx-discovery', '-n', ns], ['replace']],
      [['delete', 'service', 'emqx', '-n', ns], ['replace']],
    ]);
    for (const [del] of commands) expect((await kubectl(del!)).exitCode).toBe(0);
    const synced = await sync(head);
    expect(synced.stderr).toBe('');
    expect((await json(['get', 'service', 'emqx', '-n', ns])).spec.clusterIP).toBe('None');
    expect((await json(['get', 'rolebinding', 'emqx-discovery', '-n', ns])).roleRef.name).toBe('emqx-discovery-2');
  }, TEST_MS);
});
