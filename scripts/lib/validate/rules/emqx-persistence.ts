import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { asArray, asRecord, asString } from '../../model/object.ts';
import { emqxWorkloads, podPath } from '../../model/workloads.ts';

const DATA_DIR = '/opt/emqx/data';
const EMQX_GID = 1000;

export const emqxPersistence: Rule = {
  id: 'emqx/persistence',
  severity: 'error',
  description: 'A persistent volume holds the whole /opt/emqx/data (not a sub-directory such as mnesia), and the pod sets fsGroup 1000 so the emqx user can write it.',
  fix: 'mount the claim at /opt/emqx/data (components/persistence does) and set spec.securityContext.fsGroup: 1000.',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of emqxWorkloads(objects)) {
      const claimTemplates = new Set(asArray(asRecord(w.object.spec).volumeClaimTemplates).map((t) => asString(asRecord(t.metadata).name)));
      const claimVolumes = new Set(asArray(w.podSpec.volumes).filter((v) => v.persistentVolumeClaim !== undefined || v.ephemeral !== undefined).map((v) => asString(v.name)));
      const isPersistent = (volume: string | undefined) => claimTemplates.has(volume) || claimVolumes.has(volume);
      const mounts = asArray(w.container.volumeMounts);
      let persistentData = false;
      for (const mount of mounts) {
        const mountPath = (asString(mount.mountPath) ?? '').replace(/\/+$/, '');
        const volume = asString(mount.name);
        const inData = mountPath.startsWith(`${DATA_DIR}/`);
        if (isPersistent(volume) && (inData || mount.subPath !== undefined) && (mountPath === DATA_DIR || inData)) {
          findings.push(
            findingFor(this, w.object, `volume ${volume} is mounted at ${mountPath}${mount.subPath !== undefined ? ` (subPath ${String(mount.subPath)})` : ''}: only part of the data directory survives a restart (configs/ and cluster state are lost, or the node starts with a half database).`, {
              path: podPath(w, `containers[${w.containerName}].volumeMounts[${volume ?? '?'}]`),
              locate: mountPath,
            }),
          );
        }
        if (isPersistent(volume) && mountPath === DATA_DIR && mount.subPath === undefined) persistentData = true;
      }
      const fsGroup = asRecord(w.podSpec.securityContext).fsGroup;
      if (persistentData && fsGroup !== EMQX_GID) {
        findings.push(
          findingFor(this, w.object, `a persistent volume is mounted at ${DATA_DIR} but fsGroup is ${fsGroup === undefined ? 'not set' : String(fsGroup)}: the emqx user (gid 1000) cannot write it and the node fails to start.`, {
            path: podPath(w, 'securityContext.fsGroup'),
            locate: 'fsGroup',
          }),
        );
      }
    }
    return findings;
  },
};
