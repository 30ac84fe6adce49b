// Server-side apply, as Argo CD (ServerSideApply=true) and Flux apply: field manager
// argocd-controller. The render goes in as one batch; when the server rejects the batch or warns,
// every object is applied again on its own, so that each rejection and warning is tied to its object.
import type { ControlPlane } from '../tools/control-plane/start.ts';
import type { K8sObject } from '../model/object.ts';
import { serverMessage, toKubectlInput } from '../tools/kubectl.ts';
import { withoutSecretValues } from '../model/secret-values.ts';

export const FIELD_MANAGER = 'argocd-controller';

export interface ObjectAnswer {
  readonly object: K8sObject;
  /** The server's words, as kubectl prints them. */
  readonly message: string;
}

export interface ApplyOutcome {
  readonly rejected: readonly ObjectAnswer[];
  readonly warnings: readonly ObjectAnswer[];
}


const WARNING_LINE = /^Warning: (.*)$/gm;

function warningsIn(stderr: string): string[] {
  return [...stderr.matchAll(WARNING_LINE)].map((m) => m[1]!.trim());
}

export async function serverSideApply(cp: ControlPlane, objects: readonly K8sObject[], fieldManager: string = FIELD_MANAGER): Promise<ApplyOutcome> {
  if (objects.length === 0) return { rejected: [], warnings: [] };
  const argv = ['apply', '--server-side', `--field-manager=${fieldManager}`, '-f', '-'];
  const batch = await cp.kubectl(argv, { input: toKubectlInput(objects) });
  // The server warns when a field is written, so only on the batch's first write: a second apply
  // of the same object changes nothing and warns of nothing. Each warning names its field; it is
  // the object's that has that field.
  const warnings: ObjectAnswer[] = warningsIn(batch.stderr).flatMap((message) => {
    const field = /^([\w.-]+(?:\[[^\]]*\][\w.-]*)*):/.exec(message)?.[1];
    const owner = (field ? objects.find((o) => hasPath(o, field)) : undefined) ?? objects.find((o) => isWorkloadKind(o.kind)) ?? objects[0]!;
    return [{ object: owner, message }];
  });
  if (batch.exitCode === 0) return { rejected: [], warnings };
  const rejected: ObjectAnswer[] = [];
  for (const object of objects) {
    const one = await cp.kubectl(argv, { input: toKubectlInput([object]) });
    if (one.exitCode !== 0) rejected.push({ object, message: withoutSecretValues(serverMessage(one.stderr), object) || `kubectl exited ${one.exitCode}` });
  }
  return { rejected, warnings };
}

const isWorkloadKind = (kind: string) => ['StatefulSet', 'Deployment', 'DaemonSet', 'Job', 'CronJob', 'Pod'].includes(kind);

/** Whether `field` (`spec.template.metadata.annotations[a/b]`, `spec.ports[1]`) is set in the object. */
export function hasPath(object: unknown, field: string): boolean {
  let at: unknown = object;
  for (const [, name, key] of field.matchAll(/([^.[\]]+)|\[([^\]]*)\]/g)) {
    const step = name ?? key ?? '';
    if (Array.isArray(at)) {
      const byName = /^name="(.*)"$/.exec(step)?.[1];
      at = byName !== undefined ? at.find((e: { name?: string }) => e?.name === byName) : at[Number(step)];
    } else if (typeof at === 'object' && at !== null) {
      at = (at as Record<string, unknown>)[step];
    } else {
      return false;
    }
    if (at === undefined) return false;
  }
  return true;
}

/**
 * The field a rejection names (`spec.ports[1]`, `metadata.labels`) and the value it quotes, so the
 * finding can point at the source line. Undefined when the message names none.
 */
export function rejectedField(message: string): { path?: string; value?: string } {
  const path = '((?:[A-Za-z][\\w-]*)(?:\\.[A-Za-z][\\w-]*|\\[(?:\\d+|[\\w-]+="[^"]*")\\])*)';
  // Validation: `X "name" is invalid: spec.ports[1].name: ...`; server-side apply's own merge:
  // `failed to create typed patch object (...): .spec.ports: duplicate entries for key ...`.
  const field = (new RegExp(`is invalid: \\[?${path}: `).exec(message) ?? new RegExp(`typed patch object \\([^)]*\\): \\.${path}: `).exec(message))?.[1];
  const value = /(?:Invalid|Duplicate|Unsupported) value: "([^"]{3,})"/.exec(message)?.[1];
  return { ...(field ? { path: field } : {}), ...(value ? { value } : {}) };
}
