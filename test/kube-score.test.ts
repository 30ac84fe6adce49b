// kube-score, the pinned one, through scripts/lib/tools/kube-score.ts and the score feature: every overlay
// scores without a CRITICAL that its objects do not explain, a fixture without resources fails the
// gate naming the check and the object, and the ignore of container-resources excuses only the CPU
// limit.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildKubeScoreArgs, findKubeScore, ignoredChecks, parseKubeScoreOutput, type KubeScore } from '../scripts/lib/tools/kube-score.ts';
import { findKustomize, type Kustomize } from '../scripts/lib/tools/kustomize.ts';
import { listOverlays } from '../scripts/lib/model/overlays.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import { formatText } from '../scripts/lib/score/format.ts';
import { hasCritical, scoreOverlays, scoreRendered, type ScoreReport } from '../scripts/lib/score/run.ts';
import { selectOverlays } from '../scripts/lib/model/select-overlays.ts';
import { emqxContainer, podSpecOf, workloadOf } from './helpers/pod.ts';
import { renderRepoOverlays } from './helpers/render.ts';
import { runScript } from './helpers/run.ts';
import { useTempDirs } from './helpers/tmp.ts';

const tempDir = useTempDirs();
let kustomize: Kustomize;
let kubeScore: KubeScore;
let reports: ScoreReport[];

beforeAll(async () => {
  [kustomize, kubeScore] = await Promise.all([findKustomize(), findKubeScore()]);
  reports = await scoreOverlays(kustomize, kubeScore, listOverlays());
});

/** A Deployment with a Service in front of it; `container` and `annotations` are merged in. */
function deployment(options: { annotations?: Record<string, string>; resources?: string } = {}): string {
  const annotations = options.annotations ? `  annotations:\n${Object.entries(options.annotations).map(([k, v]) => `    ${k}: "${v}"`).join('\n')}\n` : '';
  return `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bare
  namespace: fixture
${annotations}spec:
  replicas: 2
  selector: {matchLabels: {app: bare}}
  template:
    metadata: {labels: {app: bare}}
    spec:
      securityContext: {runAsUser: 20000, runAsGroup: 20000}
      containers:
        - name: app
          image: example/app:1.0.0
          imagePullPolicy: Always
          securityContext: {readOnlyRootFilesystem: true}
${options.resources ?? ''}`;
}

describe('the wrapper', () => {
  it('asks for JSON on stdin, for the Kubernetes version validate defaults to', () => {
    expect(buildKubeScoreArgs({ kubernetesVersion: '1.35' })).toEqual(['score', '--output-format', 'json', '--kubernetes-version', 'v1.35', '-']);
    expect(buildKubeScoreArgs({ ignoreContainerCpuLimit: true, disableIgnoreAnnotations: true })).toEqual(
      expect.arrayContaining(['--ignore-container-cpu-limit', '--disable-ignore-checks-annotations']),
    );
  });

  it('parses grades, skips and comments; `null` is no object', () => {
    const json = JSON.stringify([
      {
        object_name: 'Deployment/apps/v1/ns/a',
        type_meta: { kind: 'Deployment', apiVersion: 'apps/v1' },
        object_meta: { name: 'a', namespace: 'ns', annotations: { 'kube-score/ignore': 'pod-probes, container-resources' } },
        checks: [
          { check: { id: 'container-resources', name: 'Container Resources' }, grade: 1, skipped: false, comments: [{ path: 'app', summary: 'CPU limit is not set', description: 'd' }] },
          { check: { id: 'pod-probes', name: 'Pod Probes' }, grade: 0, skipped: true, comments: null },
          { check: { id: 'label-values', name: 'Label values' }, grade: 10, skipped: false, comments: null },
        ],
      },
    ]);
    const [object] = parseKubeScoreOutput(json);
    expect(object).toMatchObject({ kind: 'Deployment', name: 'a', namespace: 'ns' });
    expect(object!.checks.map((c) => [c.id, c.grade, c.skipped])).toEqual([
      ['container-resources', 'critical', false],
      ['pod-probes', 'ok', true],
      ['label-values', 'ok', false],
    ]);
    expect(object!.checks[0]!.comments[0]).toEqual({ path: 'app', summary: 'CPU limit is not set', description: 'd' });
    expect(ignoredChecks(object!.annotations)).toEqual(['pod-probes', 'container-resources']);
    expect(parseKubeScoreOutput('null')).toEqual([]);
    expect(() => parseKubeScoreOutput('Failed to score files')).toThrow(/not JSON/);
  });
});

describe('the overlays', () => {
  it('score every overlay, with no CRITICAL and no warning', () => {
    expect(reports.map((r) => r.overlay.name)).toEqual(listOverlays().map((o) => o.name));
    for (const report of reports) {
      expect(report.renderFailure, report.overlay.name).toBeUndefined();
      expect(report.objects, report.overlay.name).toBeGreaterThan(0);
      expect(report.findings, `${report.overlay.name}:\n${formatText([report])}`).toEqual([]);
    }
  });

  it('explain every ignored check: on the workload, and in docs/kube-score.md', async () => {
    const doc = await readFile(path.join(REPO_ROOT, 'docs', 'kube-score.md'), 'utf8');
    const statefulset = await readFile(path.join(REPO_ROOT, 'base', 'statefulset.yaml'), 'utf8');
    for (const report of reports) {
      const [workload, ...others] = report.ignored;
      expect(others, report.overlay.name).toEqual([]);
      expect(workload?.name, report.overlay.name).toBe('emqx');
      for (const check of workload!.checks) {
        // A row of the table whose first column names the check.
        expect(doc, check).toMatch(new RegExp(`^\\| [^|]*\`${check}\`[^|]*\\|`, 'm'));
        // The comment beside the annotation names each check it ignores.
        expect(statefulset.split('annotations:')[0], check).toContain(check.replace(/^(statefulset|deployment)-has-host-podantiaffinity$/, 'has-host-podantiaffinity'));
      }
    }
  });

  it('fix what is right for EMQX: ephemeral storage, a bounded log volume, a read-only root, distinct probes', async () => {
    const rendered = await renderRepoOverlays();
    for (const [name, objects] of rendered) {
      const container = emqxContainer(objects);
      expect(container.resources, name).toMatchObject({ requests: { 'ephemeral-storage': expect.any(String) }, limits: { 'ephemeral-storage': expect.any(String) } });
      expect(container.resources, name).not.toHaveProperty('limits.cpu');
      expect((container.securityContext as Record<string, unknown>).readOnlyRootFilesystem, name).toBe(true);
      expect(podSpecOf(workloadOf(objects)).volumes?.find((v) => v.name === 'emqx-log'), name).toEqual({ name: 'emqx-log', emptyDir: { sizeLimit: '1Gi' } });
      expect(container.readinessProbe, name).not.toEqual(container.livenessProbe);
    }
  });
});

describe('the gate', () => {
  it('reports a workload without resources as CRITICAL, with the check id and the object', async () => {
    const { findings } = await scoreRendered(kubeScore, deployment());
    const resources = findings.find((f) => f.check === 'container-resources');
    expect(resources).toMatchObject({ severity: 'critical', kind: 'Deployment', namespace: 'fixture', name: 'bare' });
    expect(resources!.messages.join('\n')).toMatch(/\(app\) CPU limit is not set/);
    expect(findings.find((f) => f.check === 'container-ephemeral-storage-request-and-limit')).toMatchObject({ severity: 'critical', name: 'bare' });
  });

  it('lets an ignore of container-resources excuse the CPU limit and nothing else', async () => {
    const annotations = { 'kube-score/ignore': 'container-resources' };
    const noMemoryLimit = '          resources:\n            requests: {cpu: 100m, memory: 64Mi, ephemeral-storage: 64Mi}\n            limits: {ephemeral-storage: 128Mi}\n';
    const onlyCpuMissing = '          resources:\n            requests: {cpu: 100m, memory: 64Mi, ephemeral-storage: 64Mi}\n            limits: {memory: 128Mi, ephemeral-storage: 128Mi}\n';
    const noEphemeral = '          resources:\n            requests: {cpu: 100m, memory: 64Mi}\n            limits: {memory: 128Mi}\n';

    const memory = await scoreRendered(kubeScore, deployment({ annotations, resources: noMemoryLimit }));
    expect(memory.findings.find((f) => f.check === 'container-resources')?.messages.join('\n')).toMatch(/Memory limit is not set/);

    const ephemeral = await scoreRendered(kubeScore, deployment({ annotations, resources: noEphemeral }));
    expect(ephemeral.findings.map((f) => f.check)).toContain('container-ephemeral-storage-request-and-limit');

    const cpu = await scoreRendered(kubeScore, deployment({ annotations, resources: onlyCpuMissing }));
    // (The fixture has no PDB, NetworkPolicy or probes: those findings are not what this test is about.)
    expect(cpu.findings.filter((f) => f.check === 'container-resources' || f.check === 'container-ephemeral-storage-request-and-limit')).toEqual([]);
    expect(cpu.ignored).toEqual([{ kind: 'Deployment', namespace: 'fixture', name: 'bare', checks: ['container-resources'] }]);

    // Without the annotation the CPU limit is a CRITICAL: the excuse is on the object or nowhere.
    const unannotated = await scoreRendered(kubeScore, deployment({ resources: onlyCpuMissing }));
    expect(unannotated.findings.find((f) => f.check === 'container-resources')).toMatchObject({ severity: 'critical' });
  });

  it('npm run score exits 1 naming the check and the object, 0 on the repository, 2 on a usage error', async () => {
    const dir = path.join(await tempDir(), 'bare');
    await mkdir(dir);
    await writeFile(path.join(dir, 'deployment.yaml'), deployment());
    await writeFile(path.join(dir, 'kustomization.yaml'), 'resources: [deployment.yaml]\n');
    // One run per exit code and one in json, side by side; the text of the failing fixture is what
    // the command prints for it (formatText of scoreOverlays, as scripts/score.ts writes it).
    const [json, clean, usage, failing] = await Promise.all([
      runScript('score.ts', ['--format', 'json', dir]),
      runScript('score.ts', listOverlays().map((o) => o.dir)),
      runScript('score.ts', ['--format', 'xml']),
      scoreOverlays(kustomize, kubeScore, selectOverlays([dir], 'usage: npm run score')),
    ]);
    expect(hasCritical(failing)).toBe(true);
    expect(formatText(failing)).toMatch(/CRITICAL \[container-resources\] Deployment fixture\/bare/);

    expect(json.exitCode, json.stderr).toBe(1);
    const parsed = JSON.parse(json.stdout) as { overlays: { overlay: string; findings: { check: string; name: string; severity: string }[] }[] };
    expect(parsed.overlays[0]!.findings).toEqual(expect.arrayContaining([expect.objectContaining({ check: 'container-resources', name: 'bare', severity: 'critical' })]));

    expect(clean.exitCode, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/: 0 critical, 0 warnings\n$/);

    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toMatch(/--format must be one of text, json/);
  });
});
