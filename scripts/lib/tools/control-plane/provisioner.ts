// A small volume provisioner for the ephemeral control plane: for every Pending claim it creates a
// PersistentVolume of the claim's class and size, pre-bound to the claim, so that the real
// PersistentVolume controller binds them as it would on a cluster with a dynamic provisioner.
// Called from the waits that need claims Bound; it is idempotent.
import { toKubectlInput } from '../kubectl.ts';
import type { ControlPlane } from './start.ts';

interface Claim {
  metadata: { name: string; namespace: string; uid: string };
  spec: { storageClassName?: string; accessModes?: string[]; resources?: { requests?: { storage?: string } }; volumeMode?: string };
  status?: { phase?: string };
}

export async function provisionPendingClaims(cp: ControlPlane): Promise<number> {
  const res = await cp.api('/api/v1/persistentvolumeclaims');
  if (res.status !== 200) return 0;
  const claims = ((JSON.parse(res.body) as { items?: Claim[] }).items ?? []).filter((c) => c.status?.phase === 'Pending');
  if (claims.length === 0) return 0;
  const classes = new Set(claims.map((c) => c.spec.storageClassName).filter((c): c is string => !!c && c !== 'standard'));
  const docs: unknown[] = [...classes].map((name) => ({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name },
    provisioner: 'kubernetes.io/no-provisioner',
    volumeBindingMode: 'Immediate',
    reclaimPolicy: 'Retain',
  }));
  for (const c of claims) {
    docs.push({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `pv-${c.metadata.uid}` },
      spec: {
        capacity: { storage: c.spec.resources?.requests?.storage ?? '1Gi' },
        accessModes: c.spec.accessModes ?? ['ReadWriteOnce'],
        volumeMode: c.spec.volumeMode ?? 'Filesystem',
        storageClassName: c.spec.storageClassName ?? 'standard',
        persistentVolumeReclaimPolicy: 'Retain',
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: c.metadata.namespace, name: c.metadata.name, uid: c.metadata.uid },
        // Never mounted: kwok runs no containers. A path inside the control plane's directory.
        hostPath: { path: `${cp.dir}/volumes/${c.metadata.uid}`, type: 'DirectoryOrCreate' },
      },
    });
  }
  await cp.kubectl(['apply', '-f', '-'], { input: toKubectlInput(docs) });
  return claims.length;
}
