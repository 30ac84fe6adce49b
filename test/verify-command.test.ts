// The verify command as a user runs it: exit codes, formats, and that it leaves nothing behind
// (no etcd or kube-apiserver process, no temporary directory), with and without --keep.
import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { describe, expect, it } from 'vitest';
import { formatOption } from '../scripts/lib/cli/cli.ts';
import { REPO_ROOT } from '../scripts/lib/util/paths.ts';
import type { JsonFinding } from '../scripts/lib/report/format-json.ts';
import { describeWithControlPlane } from './helpers/control-plane.ts';
import { runScript } from './helpers/run.ts';
import { asCommandError } from './helpers/user-error.ts';
import { useTempDirs } from './helpers/tmp.ts';

/** Processes whose command line names `dir`: every server of a control plane started under it does. */
async function processesUnder(dir: string): Promise<string[]> {
  const out = await $({ quiet: true, nothrow: true })`ps -eo pid=,args=`;
  return out.stdout.split('\n').filter((line) => line.includes(dir) && !line.includes('ps -eo'));
}

async function controlPlaneDirs(tmp: string): Promise<string[]> {
  return (await readdir(tmp)).filter((e) => e.startsWith('emqx-gitops-cp-'));
}

describe('npm run verify: usage errors (no control plane needed)', () => {
  it('refuses a Kubernetes version it has no control plane for, saying which one is built and how to change it', async () => {
    const out = await runScript('verify.ts', ['--kubernetes-version', '1.35', 'overlays/single-node']);
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toMatch(/--kubernetes-version 1\.35: verify runs the control plane the set-up built, Kubernetes v1\.37\.2 \(1\.37\)/);
    expect(out.stderr).toMatch(/change KUBERNETES_CONTROL_PLANE_VERSION in scripts\/lib\/setup\/tool-versions\.ts and run `npm run setup -- --control-plane`/);
    expect(out.stderr).not.toMatch(/\n\s+at /);
  });

  // The run above is verify's exit 2; these call what it calls with the argument. A bad
  // VERIFY_WAIT_SECONDS is test/verify-lib.test.ts's (waitMsFromEnv).
  it('refuses an unknown format', async () => {
    const format = await asCommandError(() => formatOption('xml', ['text', 'json', 'sarif'], 'usage: npm run verify'));
    expect(format.exitCode).toBe(2);
    expect(format.stderr).toMatch(/--format must be one of text, json, sarif, not "xml"/);
  });
});

describe('npm run verify --help', () => {
  it('documents --without-endpoints-controller with the controller list it runs', async () => {
    const out = await runScript('verify.ts', ['--help']);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toMatch(/--without-endpoints-controller\n\s+run kube-controller-manager with --controllers=\*,-endpoints-controller,-endpointslice-mirroring-controller/);
  });
});

describeWithControlPlane('npm run verify, the command', () => {
  const tempDir = useTempDirs();

  it('passes the real overlays and GitOps folders, exit 0, and tears everything down', async () => {
    const tmp = await tempDir();
    const out = await runScript('verify.ts', ['overlays/deployment-ip', 'overlays/production', 'overlays/single-node', 'overlays/statefulset-hostname-pvc', 'gitops/argocd', 'gitops/flux'], { env: { TMPDIR: tmp } });
    expect(out.stderr).toMatch(/control plane on https:\/\/127\.0\.0\.1:\d+ in \d+\.\d s/);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toMatch(/^statefulset-hostname-pvc: 9 objects, ok$/m);
    expect(out.stdout).toMatch(/^flux: \d+ objects, ok$/m);
    expect(out.stdout).toMatch(/^6 overlays, \d+ objects: 0 errors, 0 warnings$/m);
    expect(await controlPlaneDirs(tmp)).toEqual([]);
    expect(await processesUnder(tmp)).toEqual([]);
  }, 300_000);

  it('reports a rejected object as a JSON finding with its source file, exit 1', async () => {
    const tmp = await tempDir();
    const overlay = path.join(tmp, 'bad-label');
    await mkdir(overlay);
    const base = path.relative(overlay, path.join(REPO_ROOT, 'overlays', 'single-node')).split(path.sep).join('/');
    await writeFile(path.join(overlay, 'kustomization.yaml'), `---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: verify-bad-label\nresources:\n  - ${base}\nlabels:\n  - pairs:\n      team: ${'y'.repeat(70)}\n`);
    const out = await runScript('verify.ts', ['--format', 'json', overlay], { env: { TMPDIR: tmp, VERIFY_WAIT_SECONDS: '10' } });
    expect(out.exitCode).toBe(1);
    const findings = JSON.parse(out.stdout) as JsonFinding[];
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.rule === 'server/rejected' && f.overlay === 'bad-label' && f.namespace === 'verify-bad-label')).toBe(true);
    expect(findings.map((f) => f.kind)).toContain('StatefulSet');
    expect(findings[0]!.message).toMatch(/must be no more than 63 (bytes|characters)/);
    expect(findings[0]!.file).toMatch(/bad-label\/kustomization\.yaml$/);
    expect(await controlPlaneDirs(tmp)).toEqual([]);
    expect(await processesUnder(tmp)).toEqual([]);
  }, 300_000);

  it('--without-endpoints-controller: the DNS overlay passes, the Endpoints API overlay is one finding naming the API and discovery-dns, exit 1', async () => {
    const tmp = await tempDir();
    const out = await runScript('verify.ts', ['--without-endpoints-controller', '--format', 'json', 'overlays/production', 'overlays/statefulset-hostname-pvc'], { env: { TMPDIR: tmp } });
    expect(out.stderr).toMatch(/kube-controller-manager --controllers=\*,-endpoints-controller,-endpointslice-mirroring-controller/);
    expect(out.exitCode).toBe(1);
    const findings = JSON.parse(out.stdout) as JsonFinding[];
    expect(findings.map((f) => `${f.overlay} ${f.rule} ${f.severity} ${f.kind} ${f.namespace}/${f.name}`)).toEqual(['statefulset-hostname-pvc verify/deprecated-endpoints-api error StatefulSet emqx-statefulset-hostname-pvc/emqx']);
    const f = findings[0]!;
    // Measured, not assumed: nothing created the Endpoints object, the EndpointSlice controller listed every pod.
    expect(f.message).toMatch(/GET \/api\/v1\/namespaces\/emqx-statefulset-hostname-pvc\/endpoints\/emqx-headless .*answered HTTP 404 \(no Endpoints object\), while the EndpointSlices of Service emqx-headless list 3 of the 3 pods/s);
    expect(f.message).toMatch(/Fix: .*discovery-dns component/);
    expect(f.file).toBe('base/emqx.env');
    // production's SRV answer came from the EndpointSlices alone, and every other check still ran.
    expect(out.stderr).toMatch(/production: .*dns discovery \(srv\): the records of emqx-headless\.emqx-production\.svc\.cluster\.local give all 3 node names, computed from the EndpointSlices .*no Endpoints object compared \(the endpoints-controller does not run\)/);
    expect(out.stderr).toMatch(/statefulset-hostname-pvc: .*pod emqx-0 deleted and back with the same name and claims/);
    expect(out.stderr).toMatch(/statefulset-hostname-pvc: .*ServiceAccount emqx is denied get\/list secrets and create pods\/exec/);
    expect(await controlPlaneDirs(tmp)).toEqual([]);
    expect(await processesUnder(tmp)).toEqual([]);
  }, 300_000);

  it('--keep leaves the control plane running with a kubeconfig to explore, until Ctrl-C', async () => {
    const tmp = await tempDir();
    const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
    const child = spawn(tsx, [path.join(REPO_ROOT, 'scripts', 'verify.ts'), '--keep', 'overlays/single-node'], { cwd: REPO_ROOT, env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no --keep line in 240 s:\n${stderr}`)), 240_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/Press Ctrl-C/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    try {
      for (let i = 0; i < 50 && !stdout.includes('\n\n'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(stdout).toMatch(/^single-node: 6 objects, ok$/m);
      const kubeconfig = /export KUBECONFIG=(\S+)/.exec(stderr)![1]!;
      expect(kubeconfig.startsWith(tmp)).toBe(true);
      // The pid to kill is the verify process itself (under tsx here, a child of the one spawned).
      const pid = Number(/kill (\d+)$/m.exec(stderr)![1]);
      expect(() => process.kill(pid, 0)).not.toThrow();
      const pods = await $({ quiet: true, nothrow: true })`${path.join(REPO_ROOT, '.tools', 'bin', 'kubectl')} --kubeconfig ${kubeconfig} -n emqx-single-node get pods -o name`;
      expect(pods.stdout.trim()).toBe('pod/emqx-0');
      expect(await processesUnder(tmp)).not.toEqual([]);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(130);
    expect(await controlPlaneDirs(tmp)).toEqual([]);
    expect(await processesUnder(tmp)).toEqual([]);
  }, 300_000);
});
