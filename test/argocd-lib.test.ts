// The pure parts of running Argo CD for the e2e: how its build resolves the argo-cd module's own
// replaces, the toolchain it alone uses, the settings objects its components read, how the e2e
// reads an Application's state, and the network-namespace readers that check what listens where.
import { describe, expect, it } from 'vitest';
import { ARGOCD_COMPONENTS, ARGOCD_NAMESPACE, argoCdSettings } from '../scripts/lib/tools/control-plane/argocd.ts';
import { ipv4 } from '../scripts/lib/tools/control-plane/netns.ts';
import { applicationState } from '../scripts/lib/e2e/argocd/claim-size.ts';
import { applicationObjects, describeApplication, type ArgoApplication } from '../scripts/lib/e2e/argocd/applications.ts';
import { wrapperReplaces } from '../scripts/lib/setup/go-build.ts';
import { parseReplaces, toolchainEnv } from '../scripts/lib/setup/go.ts';
import { ARGOCD_BUILD, CONTROL_PLANE_BUILDS, CRD_SOURCES, SETUP_CONTROL_PLANE_BUILDS } from '../scripts/lib/setup/tool-versions.ts';

describe('the Argo CD build', () => {
  it('is one version for the controllers, the CRDs and the schemas, built with its own toolchain only', () => {
    const crds = CRD_SOURCES.find((s) => s.module === ARGOCD_BUILD.module);
    expect(crds?.version).toBe(ARGOCD_BUILD.version);
    expect(crds?.toolchain).toBe(ARGOCD_BUILD.toolchain);
    expect(ARGOCD_BUILD.toolchain).toMatch(/^go1\.27\.\d+$/);
    expect(ARGOCD_BUILD.ldflags).toContain(`common.version=${ARGOCD_BUILD.version.slice(1)}`);
    expect(SETUP_CONTROL_PLANE_BUILDS).toContain(ARGOCD_BUILD);
    // The control plane and Flux stay on the Go on PATH.
    for (const b of CONTROL_PLANE_BUILDS) expect(toolchainEnv(b)).toEqual({});
    expect(toolchainEnv(ARGOCD_BUILD)).toEqual({ GOTOOLCHAIN: ARGOCD_BUILD.toolchain });
  });

  it("turns argo-cd's local gitops-engine replace into the published module at the same version, and keeps the others", () => {
    const goMod = `module github.com/argoproj/argo-cd/v3

go 1.27.0

require github.com/argoproj/argo-cd/gitops-engine/v3 v3.6.1

replace (
	github.com/golang/protobuf => github.com/golang/protobuf v1.5.4
	k8s.io/api => k8s.io/api v0.37.0
)

replace github.com/argoproj/argo-cd/gitops-engine/v3 => ./gitops-engine
`;
    expect(wrapperReplaces(ARGOCD_BUILD, parseReplaces(goMod))).toEqual([
      '-replace=github.com/golang/protobuf=github.com/golang/protobuf@v1.5.4',
      '-replace=k8s.io/api=k8s.io/api@v0.37.0',
      '-replace=github.com/argoproj/argo-cd/gitops-engine/v3=github.com/argoproj/argo-cd/gitops-engine/v3@v3.6.1',
    ]);
  });
});

describe('Argo CD settings', () => {
  it('creates every ConfigMap and the Secret the components wait for, labelled for the settings informers', () => {
    const objects = argoCdSettings('k3y') as Array<{ kind: string; metadata: { name: string; namespace: string; labels: Record<string, string> }; stringData?: Record<string, string> }>;
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      ['argocd-cm', 'argocd-cmd-params-cm', 'argocd-gpg-keys-cm', 'argocd-rbac-cm', 'argocd-ssh-known-hosts-cm', 'argocd-tls-certs-cm'].map((n) => `ConfigMap/${n}`).concat('Secret/argocd-secret').sort(),
    );
    for (const o of objects) {
      expect(o.metadata.namespace).toBe(ARGOCD_NAMESPACE);
      expect(o.metadata.labels['app.kubernetes.io/part-of']).toBe('argocd');
    }
    expect(objects.find((o) => o.kind === 'Secret')?.stringData).toEqual({ 'server.secretkey': 'k3y' });
    expect(ARGOCD_COMPONENTS).toEqual(['redis-server', 'argocd-repo-server', 'argocd-application-controller', 'argocd-applicationset-controller']);
  });
});

describe("reading an Application's state", () => {
  const app = (status: ArgoApplication['status']): ArgoApplication => ({ metadata: { name: 'emqx-x', uid: 'u' }, spec: { destination: { server: 'https://kubernetes.default.svc', namespace: 'emqx-x' } }, status });

  it('names sync and health, and marks a condition that quotes an immutable field', () => {
    expect(applicationState(undefined)).toBe('no Application');
    expect(applicationState(app({ sync: { status: 'Synced', revision: 'abc' }, health: { status: 'Healthy' } }))).toBe('Synced/Healthy');
    expect(
      applicationState(app({ sync: { status: 'Unknown' }, health: { status: 'Healthy' }, conditions: [{ type: 'ComparisonError', message: 'Failed to compare desired state to live state: ... spec: Forbidden: updates to statefulset spec for fields other than ... field is immutable' }] })),
    ).toBe('Unknown/Healthy ComparisonError (field is immutable)');
    expect(applicationState(app({ sync: { status: 'OutOfSync' }, health: { status: 'Missing' }, conditions: [{ type: 'SyncError', message: 'boom' }] }))).toBe('OutOfSync/Missing SyncError');
  });

  it('lists what an Application deployed, with the core group as the empty string', () => {
    const a = app({ resources: [{ kind: 'Service', namespace: 'emqx-x', name: 'emqx' }, { group: 'apps', kind: 'StatefulSet', namespace: 'emqx-x', name: 'emqx', health: { status: 'Progressing' } }] });
    expect(applicationObjects(a)).toEqual([
      { group: '', kind: 'Service', namespace: 'emqx-x', name: 'emqx' },
      { group: 'apps', kind: 'StatefulSet', namespace: 'emqx-x', name: 'emqx' },
    ]);
    expect(describeApplication(a)).toContain('(not healthy: StatefulSet/emqx=Progressing)');
  });
});

describe('/proc/net readers', () => {
  it('reads the little-endian IPv4 words of /proc/net/tcp', () => {
    expect(ipv4('0100007F')).toBe('127.0.0.1');
    expect(ipv4('00000000')).toBe('0.0.0.0');
  });
});

describe('what the Argo CD e2e needs from the machine', () => {
  it('exits 2 naming the install command when redis-server is not on PATH', async () => {
    const { mkdtempSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { requireRedisServer } = await import('../scripts/lib/setup/setup-control-plane.ts');
    const saved = process.env.PATH;
    process.env.PATH = mkdtempSync(path.join(os.tmpdir(), 'no-redis-'));
    try {
      await expect(requireRedisServer()).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('`apt-get install redis-server`') });
    } finally {
      process.env.PATH = saved;
    }
  });
});
