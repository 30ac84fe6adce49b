// A Deployment with a field only a StatefulSet has. overlays/deployment-ip makes its Deployment by
// changing the kind of the base StatefulSet (statefulset-to-deployment), which keeps every field
// so that nothing a component or a user set is lost unseen: the base's own serviceName,
// podManagementPolicy and updateStrategy it drops (a changed one fails the build there), anything
// else StatefulSet-only stays on the Deployment for this rule to find in the render. Without it the
// only word would be the schema's "additional property", or, applied without strict field
// validation, nothing: the API server drops the field, and with volumeClaimTemplates the claims.
import { findingFor } from '../finding.ts';
import type { Rule } from '../types.ts';
import { asRecord } from '../../model/object.ts';

/** StatefulSetSpec's fields that DeploymentSpec lacks (apps/v1), with what to do instead. */
const STATEFULSET_ONLY: Readonly<Record<string, { readonly why: string; readonly fix: string }>> = {
  volumeClaimTemplates: {
    why: "a Deployment's pods get no claim each: they share the pod template's volumes",
    fix: 'take components/persistence (or the patch that adds claims) out of this overlay, or run a StatefulSet overlay such as statefulset-hostname-pvc where data must survive a restart.',
  },
  persistentVolumeClaimRetentionPolicy: {
    why: 'a Deployment has no claims of its own to retain or delete',
    fix: 'remove spec.persistentVolumeClaimRetentionPolicy (it comes with volumeClaimTemplates, e.g. from components/persistence), or run a StatefulSet overlay.',
  },
  ordinals: {
    why: "a Deployment's pods have random names, not ordinal ones",
    fix: 'remove spec.ordinals, or run a StatefulSet overlay.',
  },
  serviceName: {
    why: "a Deployment's pods get no stable hostname under a governing Service",
    fix: 'remove spec.serviceName; pods of a Deployment are found by IP (EMQX_CLUSTER__K8S__ADDRESS_TYPE=ip, overlays/deployment-ip).',
  },
  podManagementPolicy: {
    why: 'a Deployment always creates and deletes its pods in parallel',
    fix: 'remove spec.podManagementPolicy, or run a StatefulSet overlay if the pods must start in order.',
  },
  updateStrategy: {
    why: 'a Deployment rolls by spec.strategy, whose RollingUpdate takes maxSurge and maxUnavailable, not a partition',
    fix: 'remove spec.updateStrategy and patch spec.strategy of `kind: Deployment` in the overlay instead.',
  },
};

export const deploymentStatefulSetField: Rule = {
  id: 'emqx/deployment-statefulset-field',
  severity: 'error',
  description: `A Deployment has none of the fields only a StatefulSet has (${Object.keys(STATEFULSET_ONLY).join(', ')}): overlays/deployment-ip's Deployment keeps whatever the StatefulSet it is made from had, and the API server rejects such a field or drops it.`,
  fix: 'remove the field, or the component or patch that sets it on the StatefulSet (the message says which field and why); if the pods need it, run a StatefulSet overlay.',
  check({ objects }) {
    return objects
      .filter((o) => o.kind === 'Deployment')
      .flatMap((deployment) => {
        const spec = asRecord(deployment.spec);
        return Object.entries(STATEFULSET_ONLY)
          .filter(([field]) => spec[field] !== undefined)
          .map(([field, { why, fix }]) =>
            findingFor(this, deployment, `Deployment ${deployment.metadata.name} has spec.${field}, which only a StatefulSet has (${why}); it came from the StatefulSet the Deployment was made from, if this overlay converts one (overlays/deployment-ip). The API server rejects it, or drops it without a word.`, {
              path: `spec.${field}`,
              locate: `${field}:`,
              fix,
            }),
          );
      });
  },
};
