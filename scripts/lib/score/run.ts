// `npm run score`: each overlay rendered (scripts/lib/model/render.ts, as build and validate do) and
// scored by the pinned kube-score. A CRITICAL fails the gate unless the object names the check in
// its `kube-score/ignore` annotation, beside a comment saying why (docs/kube-score.md).
import { DEFAULT_CONCURRENCY, mapConcurrent } from '../util/concurrency.ts';
import { ignoredChecks, scoreManifests, type KubeScore, type KubeScoreObject } from '../tools/kube-score.ts';
import type { Kustomize } from '../tools/kustomize.ts';
import type { Overlay } from '../model/overlays.ts';
import { renderOverlays } from '../model/render.ts';

export interface ScoreFinding {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** kube-score's check id (what `kube-score/ignore` takes) and its name. */
  readonly check: string;
  readonly checkName: string;
  readonly severity: 'critical' | 'warning';
  /** kube-score's comments, one line each: `(container) summary`. */
  readonly messages: readonly string[];
}

/** An object's checks that its `kube-score/ignore` annotation skips, on purpose. */
export interface IgnoredChecks {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly checks: readonly string[];
}

export interface ScoreReport {
  readonly overlay: Overlay;
  /** Objects kube-score scored (it leaves out kinds it has no checks for, such as custom resources). */
  readonly objects: number;
  readonly findings: readonly ScoreFinding[];
  readonly ignored: readonly IgnoredChecks[];
  /** The overlay did not render: kustomize's message, with the fix. */
  readonly renderFailure?: string;
}

/**
 * kube-score treats an ignore of `container-resources` as an ignore of the ephemeral-storage check
 * too (scorecard.go, impliedIgnoreAnnotations), and the one reason this repository ignores it is
 * the CPU limit. So where an object ignores container-resources, both checks run again with the
 * annotations off and only the CPU limit excused (`--ignore-container-cpu-limit`): a missing
 * memory limit, request or ephemeral-storage setting still fails.
 */
export const CPU_LIMIT_CHECK = 'container-resources';
export const RECHECKED_WITHOUT_CPU_LIMIT: readonly string[] = [CPU_LIMIT_CHECK, 'container-ephemeral-storage-request-and-limit'];

const keyOf = (o: { kind: string; apiVersion?: string; namespace?: string; name: string }) => `${o.kind}/${o.namespace ?? ''}/${o.name}`;

/** Findings of one overlay's scored objects; `recheck` holds the second run where there was one. */
export function findingsOf(objects: readonly KubeScoreObject[], recheck: readonly KubeScoreObject[] = []): { findings: ScoreFinding[]; ignored: IgnoredChecks[] } {
  const rechecked = new Map(recheck.map((o) => [keyOf(o), o]));
  const findings: ScoreFinding[] = [];
  const ignored: IgnoredChecks[] = [];
  for (const object of objects) {
    const ignores = ignoredChecks(object.annotations);
    if (ignores.length > 0) ignored.push({ kind: object.kind, ...(object.namespace ? { namespace: object.namespace } : {}), name: object.name, checks: ignores });
    const again = ignores.includes(CPU_LIMIT_CHECK) ? rechecked.get(keyOf(object)) : undefined;
    const redo = new Set(RECHECKED_WITHOUT_CPU_LIMIT.filter((id) => id === CPU_LIMIT_CHECK || !ignores.includes(id)));
    const checks = again ? [...object.checks.filter((c) => !redo.has(c.id)), ...again.checks.filter((c) => redo.has(c.id))] : object.checks;
    for (const check of checks) {
      if (check.skipped || check.grade === 'ok') continue;
      findings.push({
        kind: object.kind,
        ...(object.namespace ? { namespace: object.namespace } : {}),
        name: object.name,
        check: check.id,
        checkName: check.name,
        severity: check.grade,
        messages: check.comments.map((c) => `${c.path ? `(${c.path}) ` : ''}${c.summary}${c.description ? `: ${c.description}` : ''}`),
      });
    }
  }
  const order = (f: ScoreFinding) => `${f.severity === 'critical' ? 0 : 1} ${keyOf(f)} ${f.check}`;
  return { findings: findings.sort((a, b) => order(a).localeCompare(order(b))), ignored };
}

export interface ScoreOptions {
  readonly concurrency?: number;
  /** `1.37`: passed to kube-score's --kubernetes-version. */
  readonly kubernetesVersion?: string;
}

/** Scores a rendered stream: the first run, and the second where an object ignores container-resources. */
export async function scoreRendered(kubeScore: KubeScore, yaml: string, options: ScoreOptions = {}): Promise<{ objects: number; findings: ScoreFinding[]; ignored: IgnoredChecks[] }> {
  const run = { kubernetesVersion: options.kubernetesVersion };
  const objects = await scoreManifests(kubeScore, yaml, run);
  const needsRecheck = objects.some((o) => ignoredChecks(o.annotations).includes(CPU_LIMIT_CHECK));
  const recheck = needsRecheck ? await scoreManifests(kubeScore, yaml, { ...run, disableIgnoreAnnotations: true, ignoreContainerCpuLimit: true }) : [];
  return { objects: objects.length, ...findingsOf(objects, recheck) };
}

export async function scoreOverlays(kustomize: Kustomize, kubeScore: KubeScore, overlays: readonly Overlay[], options: ScoreOptions = {}): Promise<ScoreReport[]> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const { rendered, failures } = await renderOverlays(kustomize, overlays, { batch: true, concurrency });
  const scored = await mapConcurrent(rendered, concurrency, async (r): Promise<ScoreReport> => ({ overlay: r.overlay, ...(await scoreRendered(kubeScore, r.yaml, options)) }));
  const failed = failures.map((f): ScoreReport => ({ overlay: f.overlay, objects: 0, findings: [], ignored: [], renderFailure: f.message }));
  // In the order the overlays were given.
  const byDir = new Map([...scored, ...failed].map((r) => [r.overlay.dir, r]));
  return overlays.map((o) => byDir.get(o.dir)!);
}

export function hasCritical(reports: readonly ScoreReport[]): boolean {
  return reports.some((r) => r.renderFailure !== undefined || r.findings.some((f) => f.severity === 'critical'));
}
