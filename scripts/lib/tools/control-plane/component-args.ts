// The command lines of the control plane's servers, from where it lives (its directory, certificates,
// ports and kubeconfig): pure, so a test can read every flag without starting anything. Every
// server binds 127.0.0.1 on a port the kernel chose (ports.ts).
import path from 'node:path';
import { KWOK_STAGES, KWOK_STAGES_DIR } from '../../setup/setup-control-plane.ts';
import { binaryPath } from './binaries.ts';
import { FAKE_NODE_ANNOTATION } from './cluster-objects.ts';
import type { Pki } from './pki.ts';

export interface PlaneLayout {
  readonly dir: string;
  readonly pki: Pki;
  readonly kubeconfig: string;
  /** kube-controller-manager's --controllers list (controllers.ts). */
  readonly controllers: readonly string[];
  readonly ports: { readonly etcdClient: number; readonly etcdPeer: number; readonly etcdMetrics: number; readonly apiPort: number; readonly kcmPort: number; readonly schedPort: number; readonly kwokPort: number };
}

export function etcdArgv({ dir, ports: { etcdClient, etcdPeer, etcdMetrics } }: PlaneLayout): string[] {
  return [
    binaryPath('etcd'),
    '--name=default',
    `--data-dir=${path.join(dir, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
    `--listen-metrics-urls=http://127.0.0.1:${etcdMetrics}`,
    // A throw-away store: no fsync per write (start-up and applies are several times faster).
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

export function apiServerArgv({ dir, pki, ports: { etcdClient, apiPort } }: PlaneLayout): string[] {
  return [
    binaryPath('kube-apiserver'),
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    // The default reconciler refuses a loopback advertise address.
    '--endpoint-reconciler-type=none',
    `--cert-dir=${dir}`,
    `--client-ca-file=${pki.caCert}`,
    `--tls-cert-file=${pki.serverCert}`,
    `--tls-private-key-file=${pki.serverKey}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--authorization-mode=Node,RBAC',
    '--profiling=false',
  ];
}

export function controllerManagerArgv({ dir, pki, kubeconfig, controllers, ports: { kcmPort } }: PlaneLayout): string[] {
  return [
    binaryPath('kube-controller-manager'),
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${kcmPort}`,
    `--root-ca-file=${pki.caCert}`,
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    '--use-service-account-credentials=true',
    '--leader-elect=false',
    `--controllers=${controllers.join(',')}`,
    `--cert-dir=${dir}`,
    '--profiling=false',
  ];
}

export function schedulerArgv({ dir, kubeconfig, ports: { schedPort } }: PlaneLayout): string[] {
  return [
    binaryPath('kube-scheduler'),
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${schedPort}`,
    '--leader-elect=false',
    `--cert-dir=${dir}`,
    '--profiling=false',
  ];
}

export function kwokArgv({ kubeconfig, ports: { kwokPort } }: PlaneLayout): string[] {
  return [
    binaryPath('kwok'),
    `--kubeconfig=${kubeconfig}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${FAKE_NODE_ANNOTATION}=fake`,
    // Virtual pod addresses: assigned to pods, never contacted.
    '--cidr=10.0.0.0/16',
    '--node-ip=10.0.0.1',
    // Keep a Lease per node, renewed like a kubelet's. The heartbeat stage updates the Node's
    // status only every 10 to 20 minutes and counts on the lease in between: without one, the
    // node lifecycle controller marks every node NotReady (and every pod not Ready) after about
    // 40 s, and kwok never makes those pods Ready again.
    '--node-lease-duration-seconds=40',
    `--server-address=127.0.0.1:${kwokPort}`,
    ...KWOK_STAGES.flatMap((s) => ['-c', path.join(KWOK_STAGES_DIR, s)]),
  ];
}
