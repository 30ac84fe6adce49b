// Every workflow must parse with GitHub's own workflow parser (a broken workflow fails our CI, not
// the next push), and keep its security properties: read-only by default, per-job permissions,
// actions pinned by commit SHA, and the one write token only where no pull request code runs.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';

const DIR = path.join(REPO_ROOT, '.github', 'workflows');
const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();

type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
type Job = { permissions?: Record<string, string> | string; steps?: Step[]; if?: string };
type Workflow = { on: Record<string, unknown>; permissions?: unknown; concurrency?: unknown; jobs: Record<string, Job> };

function load(file: string): { text: string; workflow: Workflow } {
  const text = readFileSync(path.join(DIR, file), 'utf8');
  return { text, workflow: parse(text) as Workflow };
}

async function parserErrors(file: string, content: string): Promise<string[]> {
  const result = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  const errors = result.context.errors.getErrors().map((e) => e.message);
  if (result.value === undefined) return [...errors, 'the parser returned no workflow'];
  const template = await convertWorkflowTemplate(result.context, result.value);
  return [...errors, ...(template.errors ?? []).map((e) => e.Message)];
}

describe('workflow parser', () => {
  it('finds the three workflows', () => {
    expect(files).toEqual(['ci.yml', 'pr-diff-comment.yml', 'pr-diff.yml']);
  });

  it.each(files)('%s parses without errors', async (file) => {
    expect(await parserErrors(file, load(file).text)).toEqual([]);
  });

  it('rejects a broken workflow (the check can fail)', async () => {
    const broken = 'on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz:\n      - run: echo\n';
    expect((await parserErrors('broken.yml', broken)).length).toBeGreaterThan(0);
  });
});

describe.each(files)('%s: security properties', (file) => {
  const { text, workflow } = load(file);

  it('is read-only by default and has a concurrency group', () => {
    expect(workflow.permissions).toEqual({ contents: 'read' });
    expect(workflow.concurrency).toBeTruthy();
  });

  it('sets permissions on every job, as a map', () => {
    for (const [id, job] of Object.entries(workflow.jobs)) {
      expect(typeof job.permissions, `job ${id}`).toBe('object');
      expect(Object.values(job.permissions as object), `job ${id}`).not.toContain('write-all');
    }
  });

  it('pins every action by full commit SHA with a version comment', () => {
    const uses = text.split('\n').filter((line) => /^\s*(-\s+)?uses:/.test(line));
    expect(uses.length).toBeGreaterThan(0);
    for (const line of uses) expect(line).toMatch(/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}$/);
  });

  it('never uses pull_request_target', () => {
    expect(Object.keys(workflow.on)).not.toContain('pull_request_target');
  });
});

describe('write tokens', () => {
  const writes = files.flatMap((file) =>
    Object.entries(load(file).workflow.jobs).flatMap(([id, job]) =>
      Object.entries(job.permissions as Record<string, string>)
        .filter(([, level]) => level === 'write')
        .map(([scope]) => `${file}:${id}:${scope}`),
    ),
  );

  it('pull-requests: write exists only in the workflow_run comment job; the only other write is code scanning upload', () => {
    expect(writes.sort()).toEqual(['ci.yml:validate:security-events', 'pr-diff-comment.yml:comment:pull-requests']);
  });

  it('the comment job runs on workflow_run of pr-diff and never checks out or runs pull request code', () => {
    const { workflow } = load('pr-diff-comment.yml');
    expect(workflow.on).toEqual({ workflow_run: { workflows: ['pr-diff'], types: ['completed'] } });
    const steps = workflow.jobs.comment!.steps ?? [];
    expect(steps.some((s) => s.uses?.startsWith('actions/checkout@'))).toBe(false);
    expect(steps.some((s) => s.run !== undefined)).toBe(false);
    expect(JSON.stringify(steps)).not.toMatch(/npm|npx|tsx|head_sha\s*}}.*ref|refs\/pull/);
    const script = String(steps.find((s) => s.uses?.startsWith('actions/github-script@'))?.with?.script ?? '');
    // The artifact is data: the PR number is validated and must name the PR whose head was rendered.
    expect(script).toContain('/^[1-9][0-9]{0,9}$/');
    expect(script).toContain('pr.head.sha !== process.env.RENDERED_SHA');
    expect(script).toContain('<!-- emqx-gitops:pr-diff -->');
    expect(script).toContain('updateComment');
  });

  it('the job that runs pull request code has a read-only token and keeps no credentials', () => {
    const { workflow } = load('pr-diff.yml');
    expect(Object.keys(workflow.on)).toEqual(['pull_request']);
    expect(workflow.jobs.render!.permissions).toEqual({ contents: 'read' });
    const checkout = workflow.jobs.render!.steps!.find((s) => s.uses?.startsWith('actions/checkout@'));
    expect(checkout?.with?.['persist-credentials']).toBe(false);
  });

  it('validate runs against Kubernetes 1.35 and 1.37 and uploads SARIF', () => {
    const { text } = load('ci.yml');
    expect(text).toContain('kubernetes: ["1.35", "1.37"]');
    expect(text).toMatch(/npm run --silent validate -- --kubernetes-version .* --format sarif > validate\.sarif/);
    expect(text).toMatch(/github\/codeql-action\/upload-sarif@[0-9a-f]{40}/);
  });
});
