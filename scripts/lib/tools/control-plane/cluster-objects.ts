// The objects every ephemeral control plane starts with, and the kubeconfig its clients use: fake
// nodes kwok manages, spread over three zones, and a default StorageClass whose claims the small
// provisioner (provisioner.ts) binds.
import type { Pki } from './pki.ts';

export const FAKE_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const ZONES = ['zone-a', 'zone-b', 'zone-c'] as const;

export function kubeconfigFor(server: string, pki: Pki): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'verify', cluster: { server, 'certificate-authority': pki.caCert } }],
    users: [{ name: 'admin', user: { 'client-certificate': pki.adminCert, 'client-key': pki.adminKey } }],
    contexts: [{ name: 'verify', context: { cluster: 'verify', user: 'admin' } }],
    'current-context': 'verify',
  };
}

/** A Node object kwok manages (FAKE_NODE_ANNOTATION), in `zone`. */
export function fakeNode(name: string, zone: string): unknown {
  const capacity = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '1Ti' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [FAKE_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/zone': zone,
        'topology.kubernetes.io/region': 'local',
        type: 'kwok',
      },
    },
    status: { allocatable: capacity, capacity },
  };
}

/** Claims without a class get this one; a small provisioner (provisioner.ts) makes their volumes. */
export const DEFAULT_STORAGE_CLASS = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: 'kubernetes.io/no-provisioner',
  volumeBindingMode: 'Immediate',
  reclaimPolicy: 'Retain',
};
