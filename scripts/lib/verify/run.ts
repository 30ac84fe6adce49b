// One verify run on an ephemeral control plane: render each target (through render.ts, with
// origins, as validate does), install the pinned CRDs, create each target's namespace with the
// labels the GitOps manifests give it and the Secrets validate.config.yaml declares as coming from
// outside git, server-side apply the render as Argo CD does, then check the live result: replicas
// Ready, claims Bound, a deleted pod back with its name and claims, discovery as EMQX does it, and
// what the pods' ServiceAccount may do. Returns findings in validate's shape; the command prints.
import path from 'node:path';
import { waitUntil } from '../tools/control-plane/processes.ts';
import type { ControlPlane } from '../tools/control-plane/start.ts';
import { DEFAULT_CONCURRENCY, mapConcurrent } from '../util/concurrency.ts';
import { UserError, EXIT_USAGE } from '../cli/errors.ts';
import type { Kustomize } from '../tools/kustomize.ts';
import { kustomizationFileIn, type Overlay } from '../model/overlays.ts';
import { displayPath, REPO_ROOT } from '../util/paths.ts';
import { renderOverlays } from '../model/render.ts';
import type { K8sObject } from '../model/object.ts';
import { parseRendered, SourceIndex } from '../model/sources.ts';
import { emqxWorkloads } from '../model/workloads.ts';
import type { Finding, OverlayReport } from '../report/finding.ts';
import { serverSideApply, rejectedField } from './apply.ts';
import type { CheckContext, CheckFinding } from './checks.ts';
import { installPinnedCrds } from '../tools/control-plane/crds.ts';
import { namespaceObjects, SETUP_FIELD_MANAGER } from '../tools/control-plane/namespace.ts';
import { checkDiscovery, checkServiceAccount } from './discovery.ts';
import { listJson } from './live.ts';
import { namespaceLabels, type NamespaceLabels } from './namespaces.ts';
import { ensureZones, zonesRequired } from './nodes.ts';
import { VERIFY_RULES } from './rules.ts';
import { checkWorkload, isCheckedWorkload } from './workload.ts';

/** How long each wait (replicas Ready, claims Bound, a pod recreated) may take. */
export const DEFAULT_WAIT_SECONDS = 120;
export const WAIT_ENV = 'VERIFY_WAIT_SECONDS';

/** The wait bound from VERIFY_WAIT_SECONDS (tests shorten it), else the default. */
export function waitMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[WAIT_ENV];
  if (raw === undefined || raw === '') return DEFAULT_WAIT_SECONDS * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`${WAIT_ENV} must be a number of seconds greater than 0, not "${raw}".`, EXIT_USAGE);
  return n * 1000;
}

/** The GitOps folders that say which labels an overlay's namespace gets. */
export const LABEL_SOURCES: readonly Overlay[] = ['gitops/argocd', 'gitops/flux']
  .map((d) => ({ name: d, dir: path.join(REPO_ROOT, d) }))
  .filter((o) => kustomizationFileIn(o.dir) !== undefined);

export interface VerifyOptions {
  readonly kustomize: Kustomize;
  readonly controlPlane: ControlPlane;
  /** validate.config.yaml `externalSecrets`: created with random values in each workload namespace. */
  readonly externalSecrets?: ReadonlyMap<string, ReadonlySet<string>>;
  readonly waitMs?: number;
  /** Progress and what was skipped, one line each (the command writes them to stderr). */
  readonly note?: (line: string) => void;
  readonly concurrency?: number;
  readonly labelSources?: readonly Overlay[];
}

interface Target {
  readonly overlay: Overlay;
  readonly objects: K8sObject[];
  readonly origins: Map<K8sObject, string | undefined>;
  readonly namespaces: string[];
  readonly hasWorkloads: boolean;
}

export async function verifyTargets(targets: readonly Overlay[], options: VerifyOptions): Promise<OverlayReport[]> {
  const cp = options.controlPlane;
  const note = options.note ?? (() => {});
  const labelSources = options.labelSources ?? LABEL_SOURCES;
  const extra = labelSources.filter((l) => !targets.some((t) => t.dir === l.dir));
  const { rendered, failures } = await renderOverlays(options.kustomize, [...targets, ...extra], { origins: true, batch: true });
  const byDir = new Map<string, Target>();
  for (const r of rendered) {
    const parsed = parseRendered(r.yaml, r.originRoot);
    const objects = parsed.map((p) => p.object);
    const namespaces = [...new Set(objects.map((o) => o.metadata.namespace).filter((n): n is string => n !== undefined))];
    byDir.set(r.overlay.dir, { overlay: r.overlay, objects, origins: new Map(parsed.map((p) => [p.object, p.origin])), namespaces, hasWorkloads: objects.some(isCheckedWorkload) });
  }
  const labels = namespaceLabels(labelSources.flatMap((l) => byDir.get(l.dir)?.objects ?? []));
  note(`installed ${(await installPinnedCrds(cp)).length} pinned CRD files`);

  const chosen = targets.map((t) => byDir.get(t.dir)).filter((t): t is Target => t !== undefined);
  const sources = new SourceIndex();
  const waitMs = options.waitMs ?? DEFAULT_WAIT_SECONDS * 1000;
  const concurrency = options.concurrency ?? Math.max(2, DEFAULT_CONCURRENCY);
  const findings = new Map<string, Finding[]>();
  const runTarget = async (target: Target): Promise<void> => {
    const started = Date.now();
    const checks = await verifyTarget(cp, target, { waitMs, note: (line) => note(`${target.overlay.name}: ${line}`) });
    note(`${target.overlay.name}: ${target.objects.length} objects verified in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    findings.set(target.overlay.dir, checks.map((c) => locateFinding(sources, target, c)));
  };

  // Each target stands for what one cluster receives, but several (an overlay and the cluster
  // directories built on it) put their objects into the same namespace. Targets without workloads
  // only need their applies checked and go first, side by side. Targets with workloads go in waves
  // of disjoint namespaces; a namespace that an earlier wave used is deleted and made anew first,
  // so no target's pods, claims or immutable fields meet another's.
  const applyOnly = chosen.filter((t) => !t.hasWorkloads);
  await createNamespaces(cp, applyOnly, labels, options.externalSecrets);
  await mapConcurrent(applyOnly, concurrency, runTarget);
  const used = new Set<string>();
  for (const wave of waves(chosen.filter((t) => t.hasWorkloads))) {
    const reuse = wave.flatMap((t) => t.namespaces).filter((ns) => used.has(ns));
    if (reuse.length > 0) {
      const waited = await deleteNamespaces(cp, reuse, waitMs);
      note(`namespaces ${reuse.join(', ')} deleted for the next targets in ${(waited / 1000).toFixed(1)} s`);
    }
    for (const t of wave) for (const ns of t.namespaces) used.add(ns);
    const zones = await ensureZones(cp, zonesRequired(wave.flatMap((t) => t.objects)));
    if (zones.length > 0) note(`fake nodes added in the zones the renders require: ${zones.join(', ')}`);
    await createNamespaces(cp, wave, labels, options.externalSecrets);
    await mapConcurrent(wave, concurrency, runTarget);
  }
  return targets.map((overlay): OverlayReport => {
    const failure = failures.find((f) => f.overlay.dir === overlay.dir);
    if (failure) return { overlay, objects: 0, findings: [renderFinding(overlay, failure.message)] };
    return { overlay, objects: byDir.get(overlay.dir)!.objects.length, findings: findings.get(overlay.dir) ?? [] };
  });
}

/** Groups targets so that no two in a group share a namespace, keeping their order. */
export function waves<T extends { readonly namespaces: readonly string[] }>(targets: readonly T[]): T[][] {
  const out: Array<{ members: T[]; namespaces: Set<string> }> = [];
  for (const t of targets) {
    const fits = out.find((w) => !t.namespaces.some((ns) => w.namespaces.has(ns)));
    const wave = fits ?? (out.push({ members: [], namespaces: new Set() }), out.at(-1)!);
    wave.members.push(t);
    for (const ns of t.namespaces) wave.namespaces.add(ns);
  }
  return out.map((w) => w.members);
}

/** The targets' namespaces with their GitOps labels, and in those holding workloads the outside-git Secrets (random values, never printed). */
async function createNamespaces(cp: ControlPlane, targets: readonly Target[], labels: NamespaceLabels, externalSecrets: VerifyOptions['externalSecrets']): Promise<void> {
  const namespaces = [...new Set(targets.flatMap((t) => t.namespaces))];
  if (namespaces.length === 0) return;
  const items = namespaces.flatMap((ns) => {
    // Only where a workload will read them, and not where the render brings its own.
    const needed = targets.some((t) => t.hasWorkloads && t.namespaces.includes(ns));
    const secrets = new Map([...(needed ? (externalSecrets ?? []) : [])].filter(([name]) => !targets.some((t) => t.objects.some((o) => o.kind === 'Secret' && o.metadata.name === name && o.metadata.namespace === ns))));
    return namespaceObjects({ name: ns, labels: labels.labelsFor(ns), secrets });
  });
  // JSON, not YAML: kubectl reads YAML 1.1, where an unquoted `y` or `no` is a boolean.
  const out = await cp.kubectl(['apply', '--server-side', `--field-manager=${SETUP_FIELD_MANAGER}`, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
  // kubectl's message names the object, never a Secret's values.
  if (out.exitCode !== 0) throw new UserError(`could not create the namespaces ${namespaces.join(', ')} and their Secrets: ${out.stderr.trim()}`, EXIT_USAGE);
}

/**
 * Deletes the namespaces and waits until they are gone. The namespace controller backs off
 * exponentially while anything with a finalizer is left (a claim waits for its pod), so the
 * workloads, their pods (kwok runs no container to stop: at once) and the claims go first, and the
 * namespace only once they are gone: then one pass of the controller empties it.
 */
async function deleteNamespaces(cp: ControlPlane, namespaces: readonly string[], timeoutMs: number): Promise<number> {
  const bound = Math.max(timeoutMs, 60_000);
  const started = Date.now();
  for (const ns of namespaces) {
    for (const plural of ['statefulsets', 'deployments', 'replicasets']) await cp.api(`/apis/apps/v1/namespaces/${ns}/${plural}`, { method: 'DELETE', body: { propagationPolicy: 'Background' } });
    await cp.api(`/api/v1/namespaces/${ns}/pods`, { method: 'DELETE', body: { gracePeriodSeconds: 0 } });
    await cp.api(`/api/v1/namespaces/${ns}/persistentvolumeclaims`, { method: 'DELETE' });
  }
  await waitUntil(`pods and claims in ${namespaces.join(', ')} deleted`, bound, async () => {
    const left: string[] = [];
    for (const ns of namespaces) {
      for (const kind of ['pods', 'persistentvolumeclaims']) {
        const items = await listJson(cp, `/api/v1/namespaces/${ns}/${kind}`);
        if (items.length > 0) left.push(`${items.length} ${kind} in ${ns}`);
      }
      // A pod the StatefulSet controller made before it saw the deletion.
      await cp.api(`/api/v1/namespaces/${ns}/pods`, { method: 'DELETE', body: { gracePeriodSeconds: 0 } });
    }
    return left.length === 0 ? true : left.join(', ');
  }, 100);
  for (const ns of namespaces) await cp.api(`/api/v1/namespaces/${ns}`, { method: 'DELETE' });
  await waitUntil(`namespaces ${namespaces.join(', ')} deleted`, bound, async () => {
    const left = [];
    for (const ns of namespaces) if ((await cp.api(`/api/v1/namespaces/${ns}`)).status !== 404) left.push(ns);
    return left.length === 0 ? true : `${left.join(', ')} still terminating`;
  }, 100);
  return Date.now() - started;
}

async function verifyTarget(cp: ControlPlane, target: Target, ctx: CheckContext): Promise<CheckFinding[]> {
  const findings: CheckFinding[] = [];
  const { rejected, warnings } = await serverSideApply(cp, target.objects);
  const ref = (o: K8sObject) => ({ kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) });
  for (const r of rejected) {
    const field = rejectedField(r.message);
    findings.push({
      object: ref(r.object),
      rule: VERIFY_RULES.rejected,
      message: `the API server rejected it:\n  ${r.message.split('\n').join('\n  ')}`,
      ...(field.path ? { path: field.path } : {}),
      ...(field.value ? { locate: field.value } : {}),
    });
  }
  for (const w of warnings) findings.push({ object: ref(w.object), rule: VERIFY_RULES.warning, message: `the API server warned: ${w.message}` });
  const isRejected = (o: K8sObject) => rejected.some((r) => r.object === o);
  const brokers = new Set(emqxWorkloads(target.objects).map((w) => w.object));
  for (const workload of target.objects.filter(isCheckedWorkload)) {
    if (isRejected(workload)) continue;
    const found = await checkWorkload(cp, workload, ctx);
    findings.push(...found);
    if (found.length > 0 || !brokers.has(workload)) continue;
    const w = emqxWorkloads([workload])[0]!;
    findings.push(...(await checkDiscovery(cp, w, target.objects, ctx)));
    findings.push(...(await checkServiceAccount(cp, w, ctx)));
  }
  if (!target.hasWorkloads) ctx.note('no workload: applied only');
  return findings;
}

function locateFinding(sources: SourceIndex, target: Target, c: CheckFinding): Finding {
  const object = target.objects.find((o) => o.kind === c.object.kind && o.metadata.name === c.object.name && (o.metadata.namespace ?? '') === (c.object.namespace ?? ''));
  const at = sources.locate(target.overlay.dir, object ? target.origins.get(object) : undefined, c.path, c.locate);
  return {
    overlay: target.overlay.name,
    kind: c.object.kind,
    name: c.object.name,
    ...(c.object.namespace !== undefined ? { namespace: c.object.namespace } : {}),
    ...(at ? { file: displayPath(at.file), ...(at.line !== undefined ? { line: at.line } : {}) } : {}),
    ...(c.path !== undefined ? { path: c.path } : {}),
    rule: c.rule.id,
    severity: c.rule.severity,
    message: c.rule.fix ? `${c.message}\nFix: ${c.rule.fix}` : c.message,
  };
}

function renderFinding(overlay: Overlay, message: string): Finding {
  const file = kustomizationFileIn(overlay.dir);
  return { overlay: overlay.name, kind: 'Kustomization', name: overlay.name, ...(file ? { file: displayPath(file) } : {}), rule: VERIFY_RULES.render.id, severity: 'error', message };
}
