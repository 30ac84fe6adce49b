// The control plane's command lines (tools/control-plane/component-args.ts): every server binds
// loopback on the ports it was given, and the flags the e2e and verify depend on are there.
import { describe, expect, it } from 'vitest';
import { apiServerArgv, controllerManagerArgv, etcdArgv, kwokArgv, schedulerArgv, type PlaneLayout } from '../scripts/lib/tools/control-plane/component-args.ts';
import { WITHOUT_ENDPOINTS_CONTROLLERS } from '../scripts/lib/tools/control-plane/controllers.ts';
import type { Pki } from '../scripts/lib/tools/control-plane/pki.ts';

const pki = Object.fromEntries(['caCert', 'caKey', 'serverCert', 'serverKey', 'adminCert', 'adminKey', 'serviceAccountKey', 'serviceAccountPub'].map((k) => [k, `/tmp/plane/${k}.pem`])) as unknown as Pki;
const layout: PlaneLayout = { dir: '/tmp/plane', pki, kubeconfig: '/tmp/plane/kubeconfig', controllers: WITHOUT_ENDPOINTS_CONTROLLERS, ports: { etcdClient: 1001, etcdPeer: 1002, etcdMetrics: 1003, apiPort: 1004, kcmPort: 1005, schedPort: 1006, kwokPort: 1007 } };
const all = [etcdArgv, apiServerArgv, controllerManagerArgv, schedulerArgv, kwokArgv].map((f) => f(layout));

describe('the control plane command lines', () => {
  it('bind every listener to 127.0.0.1 on its own port, and name no other address', () => {
    const addresses = all.flat().flatMap((a) => [...a.matchAll(/(\d+\.\d+\.\d+\.\d+):(\d+)/g)].map((m) => `${m[1]}:${m[2]}`));
    expect(addresses.length).toBe(8);
    for (const a of addresses) expect(a).toMatch(/^127\.0\.0\.1:100[1-7]$/);
    expect(apiServerArgv(layout)).toEqual(expect.arrayContaining(['--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', '--secure-port=1004', '--endpoint-reconciler-type=none']));
    for (const argv of [controllerManagerArgv(layout), schedulerArgv(layout)]) expect(argv).toContain('--bind-address=127.0.0.1');
  });

  it('passes the controller list and keeps kwok node leases', () => {
    expect(controllerManagerArgv(layout)).toContain(`--controllers=${WITHOUT_ENDPOINTS_CONTROLLERS.join(',')}`);
    expect(kwokArgv(layout)).toEqual(expect.arrayContaining(['--node-lease-duration-seconds=40', '--server-address=127.0.0.1:1007', '--manage-all-nodes=false']));
  });
});
