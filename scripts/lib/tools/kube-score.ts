// The one wrapper around the kube-score binary: `kube-score score --output-format json` on a
// rendered stream passed on stdin, with its JSON (format v2) turned into typed results.
import { $ } from 'zx/core';
import { ToolError } from '../cli/errors.ts';
import { displayPath } from '../util/paths.ts';
import { DEFAULT_KUBERNETES_MINOR, KUBE_SCORE } from '../setup/tool-versions.ts';
import { findPinnedBinary, pinnedPath } from './pinned-binary.ts';

export interface KubeScore {
  readonly binary: string;
  /** The pinned version when the set-up built it (go install builds report `development`), else what `version` prints. */
  readonly version: string;
}

/** kube-score's grades (scorecard.Grade): 1 critical, 5 warning, 7 almost OK, 10 OK. */
export type KubeScoreGrade = 'critical' | 'warning' | 'ok';

export interface KubeScoreComment {
  /** Where in the object, usually the container's name; may be empty. */
  readonly path: string;
  readonly summary: string;
  readonly description: string;
}

export interface KubeScoreCheckResult {
  /** The check's id, as `kube-score/ignore` and `--ignore-test` take it: `container-resources`. */
  readonly id: string;
  readonly name: string;
  readonly grade: KubeScoreGrade;
  /** Not run: ignored by annotation or flag, optional and not enabled, or not applicable (its grade is then `ok`). */
  readonly skipped: boolean;
  readonly comments: readonly KubeScoreComment[];
}

export interface KubeScoreObject {
  readonly kind: string;
  readonly apiVersion: string;
  readonly name: string;
  readonly namespace?: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly checks: readonly KubeScoreCheckResult[];
}

export interface KubeScoreRun {
  /** `1.37`: which apiVersions count as deprecated (check stable-version). Default: validate's default minor. */
  readonly kubernetesVersion?: string;
  /** `--ignore-container-cpu-limit`: container-resources no longer requires a CPU limit. */
  readonly ignoreContainerCpuLimit?: boolean;
  /** `--disable-ignore-checks-annotations`: the objects' `kube-score/ignore` annotations have no effect. */
  readonly disableIgnoreAnnotations?: boolean;
}

/** The annotation kube-score reads on an object (and its pod template) to skip checks: a comma-separated list of check ids. */
export const IGNORE_ANNOTATION = 'kube-score/ignore';

/** The check ids an object's `kube-score/ignore` annotation lists. */
export function ignoredChecks(annotations: Readonly<Record<string, string>> | undefined): string[] {
  const value = annotations?.[IGNORE_ANNOTATION];
  return value ? value.split(',').map((id) => id.trim()).filter((id) => id !== '') : [];
}

/** The pinned kube-score the set-up installed, else kube-score on PATH. */
export async function findKubeScore(): Promise<KubeScore> {
  const found = await findPinnedBinary(KUBE_SCORE, { args: ['version'], parse: (stdout) => /v\d+\.\d+\.\d+/.exec(stdout)?.[0] });
  if (found) return { binary: found.binary, version: found.version };
  throw new ToolError(
    `kube-score not found: neither ${displayPath(pinnedPath(KUBE_SCORE))} nor kube-score on PATH.\n` +
      `Fix: run \`npm ci\` (or \`npm run setup\`), which installs kube-score ${KUBE_SCORE.version} with Go.`,
  );
}

/** kube-score's arguments for a stream on stdin. */
export function buildKubeScoreArgs(run: KubeScoreRun = {}): string[] {
  const minor = (run.kubernetesVersion ?? DEFAULT_KUBERNETES_MINOR).replace(/^v/, '').split('.').slice(0, 2).join('.');
  return [
    'score',
    '--output-format',
    'json',
    '--kubernetes-version',
    `v${minor}`,
    ...(run.ignoreContainerCpuLimit ? ['--ignore-container-cpu-limit'] : []),
    ...(run.disableIgnoreAnnotations ? ['--disable-ignore-checks-annotations'] : []),
    '-',
  ];
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function list(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.map(record) : [];
}

function gradeOf(grade: unknown, skipped: boolean): KubeScoreGrade {
  // A skipped check carries grade 0: it was not graded.
  if (skipped) return 'ok';
  if (grade === 1) return 'critical';
  if (grade === 5) return 'warning';
  if (grade === 7 || grade === 10) return 'ok';
  throw new ToolError(`kube-score reported an unknown grade ${JSON.stringify(grade)}`);
}

/**
 * kube-score's `--output-format json` (v2): a list of scored objects, or `null` when the stream
 * holds none it scores. Objects come in map order, which changes from run to run: sorted here.
 */
export function parseKubeScoreOutput(stdout: string): KubeScoreObject[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new ToolError(`kube-score printed output that is not JSON:\n${stdout.slice(0, 500)}`);
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed)) throw new ToolError(`kube-score's JSON output is not a list:\n${stdout.slice(0, 500)}`);
  return parsed
    .map((entry: unknown): KubeScoreObject => {
      const meta = record(record(entry).object_meta);
      const type = record(record(entry).type_meta);
      return {
        kind: String(type.kind ?? ''),
        apiVersion: String(type.apiVersion ?? ''),
        name: String(meta.name ?? ''),
        ...(meta.namespace ? { namespace: String(meta.namespace) } : {}),
        annotations: record(meta.annotations) as Record<string, string>,
        checks: list(record(entry).checks).map((c) => ({
          id: String(record(c.check).id ?? ''),
          name: String(record(c.check).name ?? ''),
          grade: gradeOf(c.grade, c.skipped === true),
          skipped: c.skipped === true,
          comments: list(c.comments).map((m) => ({ path: String(m.path ?? ''), summary: String(m.summary ?? ''), description: String(m.description ?? '') })),
        })),
      };
    })
    .sort((a, b) => `${a.kind}/${a.namespace ?? ''}/${a.name}`.localeCompare(`${b.kind}/${b.namespace ?? ''}/${b.name}`));
}

/**
 * Scores a rendered multi-document YAML stream. Exit 1 from kube-score means "a CRITICAL finding"
 * when it printed its JSON, and a failure (input it cannot parse, a bad flag) when it did not.
 */
export async function scoreManifests(k: KubeScore, yaml: string, run: KubeScoreRun = {}): Promise<KubeScoreObject[]> {
  const out = await $({ quiet: true, nothrow: true, input: yaml })`${k.binary} ${buildKubeScoreArgs(run)}`;
  if ((out.exitCode === 0 || out.exitCode === 1) && out.stdout.trim() !== '') return parseKubeScoreOutput(out.stdout);
  const why = out.exitCode === null ? `was killed (${out.signal ?? 'unknown signal'})` : `exited ${out.exitCode}`;
  throw new ToolError(`kube-score (${k.binary}) ${why}:\n${out.stderr.trim() || out.stdout.trim() || 'no output'}\nFix: run \`npm run setup\` again.`);
}
