// `npm run diff -- --server`: asks a real API server what the static analysis (danger.ts) can only
// predict. One ephemeral control plane per diff run; for each changed target, its BASE render is
// server-side applied (as Argo CD does: field manager argocd-controller) into namespaces made the
// way the GitOps manifests make them, then every object the HEAD changes or adds is applied with
// `--dry-run=server`. Each rejection becomes a warning quoting the server. Nothing is started when
// no target changed.
import { recreateRemedy } from './danger.ts';
import { deepEqual } from './normalize.ts';
import { describeId, groupOf, idOf } from './objects.ts';
import { pairObjects } from './pair.ts';
import { redactSecretNameHashes } from './mask.ts';
import type { DiffWarning } from './types.ts';
import { ToolError } from '../cli/errors.ts';
import { mapConcurrent } from '../util/concurrency.ts';
import { installPinnedCrds } from '../tools/control-plane/crds.ts';
import { prepareNamespace } from '../tools/control-plane/namespace.ts';
import { waitUntil } from '../tools/control-plane/processes.ts';
import { startControlPlane, type ControlPlane } from '../tools/control-plane/start.ts';
import type { K8sObject } from '../model/object.ts';
import { withoutSecretValues } from '../model/secret-values.ts';
import { serverMessage } from '../tools/kubectl.ts';

/** What Argo CD's server-side sync calls itself; Flux's is `kustomize-controller`. */
export const SYNC_FIELD_MANAGER = 'argocd-controller';

export interface ServerTarget {
  /** The overlay (or fleet target) name warnings carry. */
  readonly name: string;
  /** Empty for a target that is new at the head. */
  readonly base: readonly K8sObject[];
  readonly head: readonly K8sObject[];
}

export interface ServerCheckSettings {
  /** validate.config.yaml's Secrets from outside git: name -> keys. */
  readonly secrets: ReadonlyMap<string, ReadonlySet<string>>;
  /** The labels the GitOps manifests give a target namespace. */
  readonly namespaceLabels: (namespace: string) => Readonly<Record<string, string>>;
  readonly log?: (line: string) => void;
  /** A control plane that is already running (tests); by default one is started and stopped. */
  readonly controlPlane?: ControlPlane;
}

/** The source mark every server warning's message starts with. */
export const SERVER_SAID = 'the API server said:';

/** kubectl calls in flight: each is short and mostly waits for the server. */
const KUBECTL_CONCURRENCY = 4;

const APPLY = ['apply', '--server-side', `--field-manager=${SYNC_FIELD_MANAGER}`, '--force-conflicts', '-f', '-'] as const;

/** kubectl's output carries the server's answer (or its discovery's: a kind it does not serve). */
const SERVER_ANSWER = /Error from server|is invalid:|is forbidden:|resource mapping not found|no matches for kind/;

/** The server's warnings, one list per target in order; no control plane is started when `targets` is empty. */
export async function serverWarnings(targets: readonly ServerTarget[], settings: ServerCheckSettings): Promise<DiffWarning[][]> {
  const result: DiffWarning[][] = [];
  if (targets.length === 0) return result;
  const log = settings.log ?? (() => {});
  const cp = settings.controlPlane ?? (await startControlPlane({ log: (line) => log(`control plane: ${line}`) }));
  try {
    if (targets.some((t) => [...t.base, ...t.head].some(isCustomResource)) && !withCrds.has(cp)) {
      const began = Date.now();
      await installPinnedCrds(cp);
      withCrds.add(cp);
      log(`pinned CRDs installed in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    }
    const used = new Set<string>();
    for (const target of targets) {
      const began = Date.now();
      result.push(await checkTarget(cp, target, settings, used));
      log(`${target.name}: checked on the API server in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    }
  } finally {
    if (!settings.controlPlane) await cp.stop();
  }
  return result;
}

/** Groups Kubernetes serves itself; anything else needs a CRD. */
function isCustomResource(object: K8sObject): boolean {
  const group = groupOf(String(object.apiVersion ?? ''));
  return !(group === '' || group.endsWith('.k8s.io') || ['apps', 'batch', 'policy', 'autoscaling'].includes(group));
}

/** Control planes that have the pinned CRDs: they cost seconds, so only a diff with custom resources installs them, once. */
const withCrds = new WeakSet<ControlPlane>();

function namespacesOf(objects: readonly K8sObject[]): string[] {
  return [...new Set(objects.map((o) => o.metadata?.namespace).filter((n): n is string => typeof n === 'string' && n !== ''))].sort();
}

/** A namespace an earlier target used is emptied first: each target's base starts from nothing. */
async function freshNamespace(cp: ControlPlane, namespace: string, used: Set<string>): Promise<void> {
  if (!used.has(namespace)) {
    used.add(namespace);
    return;
  }
  await cp.kubectlOk(['delete', 'namespace', namespace, '--wait=false']);
  await waitUntil(`namespace ${namespace} to be deleted`, 60_000, async () => {
    const res = await cp.api(`/api/v1/namespaces/${namespace}`);
    return res.status === 404 ? true : `HTTP ${res.status}`;
  });
}

function asList(objects: readonly K8sObject[]): string {
  // JSON, not YAML: kubectl reads YAML 1.1, where an unquoted `y` or `no` is a boolean.
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
}

/** The server's refusal, quoted; a failure of kubectl itself is a tool error. */
async function attempt(cp: ControlPlane, object: K8sObject, dryRun: boolean): Promise<string | undefined> {
  const out = await cp.kubectl(dryRun ? [...APPLY, '--dry-run=server'] : APPLY, { input: asList([object]) });
  if (out.exitCode === 0) return undefined;
  if (!SERVER_ANSWER.test(out.stderr)) throw new ToolError(`kubectl apply of ${describeId(idOf(object))} failed (exit ${out.exitCode}): ${out.stderr.trim()}`);
  return serverMessage(out.stderr);
}

const IMMUTABLE = /field is immutable|may not change once set|Forbidden: updates to [a-z]+ spec for fields other than|cannot change roleRef|is immutable/i;

/** The warning for a refusal of `raw`, named as `shown` (its generated Secret names redacted, as in the rest of the diff). */
export function rejectionWarning(target: string, raw: K8sObject, shown: K8sObject, message: string, before = ''): DiffWarning {
  let text = withoutSecretValues(message, raw);
  if (raw.metadata.name !== shown.metadata.name) text = text.split(raw.metadata.name).join(shown.metadata.name);
  return {
    overlay: target,
    rule: 'server-rejected',
    object: describeId(idOf(shown)),
    message: `${SERVER_SAID} ${before}${text}`,
    remedy: IMMUTABLE.test(message)
      ? recreateRemedy(shown)
      : 'Change the overlay so that the API server accepts this object (the message names the field), then run `npm run diff -- --server` again.',
  };
}

async function checkTarget(cp: ControlPlane, target: ServerTarget, settings: ServerCheckSettings, used: Set<string>): Promise<DiffWarning[]> {
  const namespaces = namespacesOf([...target.base, ...target.head]);
  for (const ns of namespaces) {
    await freshNamespace(cp, ns, used);
    await prepareNamespace(cp, { name: ns, labels: settings.namespaceLabels(ns), secrets: settings.secrets });
  }
  // Warnings name objects as the rest of the diff does: generated Secret names without their hash.
  const redacted = redactSecretNameHashes(target.base, target.head);
  const shownBase = new Map(target.base.map((o, i) => [o, redacted.base[i]!]));
  const shownHead = new Map(target.head.map((o, i) => [o, redacted.head[i]!]));
  const warnings: DiffWarning[] = [];

  if (target.base.length > 0) {
    const applied = await cp.kubectl(APPLY, { input: asList(target.base) });
    if (applied.exitCode !== 0) {
      // Which objects: one at a time (the batch's errors do not always name theirs).
      const rejected = await mapConcurrent(target.base, KUBECTL_CONCURRENCY, async (object) => {
        const refusal = await attempt(cp, object, false);
        return refusal === undefined ? undefined : rejectionWarning(target.name, object, shownBase.get(object)!, refusal, 'the base render (before this change) is rejected too, so the head was compared with what did apply: ');
      });
      warnings.push(...rejected.filter((w): w is DiffWarning => w !== undefined));
    }
  }

  const toCheck = pairObjects(target.base, target.head).filter((p) => p.head && !(p.base && deepEqual(p.base, p.head)));
  const rejected = await mapConcurrent(toCheck, KUBECTL_CONCURRENCY, async (pair) => {
    const head = pair.head!;
    const refusal = await attempt(cp, head, true);
    return refusal === undefined ? undefined : rejectionWarning(target.name, head, shownHead.get(head)!, refusal, '');
  });
  warnings.push(...rejected.filter((w): w is DiffWarning => w !== undefined));
  return warnings;
}
