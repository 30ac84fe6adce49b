// A cluster's directory, clusters/<name>/: what `npm run fleet -- add` writes (one overlay plus
// this cluster's settings, each in the plainest form kustomize has: `replicas:`, a
// configMapGenerator merge, small patches named after their target), and the checks that the
// directories and the inventory agree. The directory is the user's after `add`: `generate` never
// rewrites it, it only checks that it builds on the overlay the inventory names.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { overlayNamespace } from '../gitops/flux.ts';
import { asRecord } from '../model/object.ts';
import { kustomizationFileIn } from '../model/overlays.ts';
import { listClusters } from '../model/select-overlays.ts';
import type { Cluster, ClusterEntry } from './inventory.ts';

/** The settings `fleet add` can write; everything else is a patch the user adds. */
export interface ClusterSettings {
  readonly replicas?: number;
  readonly storageSize?: string;
  readonly storageClass?: string;
  /** The cluster's DNS domain, e.g. `cluster.local` (EMQX_CLUSTER__K8S__SUFFIX becomes `svc.<domain>`). */
  readonly clusterDomain?: string;
  /** Annotations on the LoadBalancer Service (components/loadbalancer). */
  readonly loadBalancerAnnotations?: Readonly<Record<string, string>>;
  /** Extra names on the TLS certificate (components/tls), e.g. the load balancer's public name. */
  readonly tlsNames?: readonly string[];
}

/** Which of the repository's components an overlay lists: what a cluster's settings can patch. */
export interface OverlayFeatures {
  readonly persistence: boolean;
  readonly tls: boolean;
  readonly loadbalancer: boolean;
  readonly externalSecrets: boolean;
  readonly zoneSpread: boolean;
}

export function overlayFeatures(kustomization: unknown): OverlayFeatures {
  const components = Array.isArray(asRecord(kustomization).components) ? (asRecord(kustomization).components as unknown[]).map(String) : [];
  const has = (name: string) => components.some((c) => c.replace(/\/+$/, '').endsWith(`components/${name}`));
  return { persistence: has('persistence'), tls: has('tls'), loadbalancer: has('loadbalancer'), externalSecrets: has('external-secrets'), zoneSpread: has('zone-spread') };
}

export function readOverlayFeatures(overlayDir: string): OverlayFeatures {
  const file = kustomizationFileIn(overlayDir);
  return overlayFeatures(file ? parse(readFileSync(file, 'utf8')) : {});
}

/** A setting the overlay cannot take, as a sentence with the fix; undefined when all fit. */
export function settingsProblem(entry: ClusterEntry, settings: ClusterSettings, features: OverlayFeatures): string | undefined {
  if (settings.loadBalancerAnnotations && Object.keys(settings.loadBalancerAnnotations).length > 0 && !features.loadbalancer) {
    return `--lb-annotation: overlays/${entry.overlay} has no load balancer (components/loadbalancer). Fix: drop the option, or use an overlay that lists it.`;
  }
  if (settings.tlsNames && settings.tlsNames.length > 0 && !features.tls) {
    return `--tls-name: overlays/${entry.overlay} serves no TLS (components/tls). Fix: drop the option, or use an overlay that lists it.`;
  }
  if (settings.replicas !== undefined && (!Number.isInteger(settings.replicas) || settings.replicas < 1)) return `--replicas: expected a whole number of at least 1, found ${settings.replicas}.`;
  if (settings.replicas !== undefined && settings.replicas > 1 && entry.overlay === 'single-node') {
    return '--replicas: overlays/single-node does not cluster (discovery `singleton`): more than one replica makes brokers that never meet. Fix: use overlays/production for a cluster.';
  }
  for (const [flag, value] of [['--storage-size', settings.storageSize]] as const) {
    if (value !== undefined && !/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.test(value)) return `${flag}: "${value}" is not a Kubernetes quantity. Fix: e.g. 20Gi.`;
  }
  if (settings.clusterDomain !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(settings.clusterDomain)) {
    return `--cluster-domain: "${settings.clusterDomain}" is not a DNS domain. Fix: the cluster's domain, e.g. cluster.local or edge.example.internal (without "svc.").`;
  }
  return undefined;
}

const q = (value: string) => stringify(value).trimEnd();

/** The files of clusters/<name>/, relative to it. */
export function clusterDirFiles(entry: ClusterEntry, settings: ClusterSettings, features: OverlayFeatures): Map<string, string> {
  const files = new Map<string, string>();
  const namespace = overlayNamespace(entry.overlay);
  const components: string[] = [];
  const patches: string[] = [];
  const extra: string[] = [];

  if (settings.replicas !== undefined) {
    extra.push(`# How many brokers this cluster runs.\nreplicas:\n  - name: emqx\n    count: ${settings.replicas}\n`);
  }
  if (settings.clusterDomain !== undefined) {
    extra.push(
      `configMapGenerator:\n  # This cluster's DNS domain is ${settings.clusterDomain}: the pods' node names are built from it.\n` +
        `  - name: emqx-env\n    behavior: merge\n    literals:\n      - EMQX_CLUSTER__K8S__SUFFIX=${q(`svc.${settings.clusterDomain}`)}\n`,
    );
  }
  if (settings.storageSize !== undefined || settings.storageClass !== undefined) {
    if (!features.persistence) components.push('  # Keep the broker\'s data across restarts: a claim instead of the overlay\'s emptyDir.\n  - ../../components/persistence');
    const ops = [
      '# The claim this cluster\'s brokers get; volumeClaimTemplates cannot change on a live StatefulSet',
      '# (docs/gitops.md, "When the diff warns of an immutable field").',
      '- op: test',
      '  path: /spec/volumeClaimTemplates/0/metadata/name',
      '  value: emqx-data',
    ];
    if (settings.storageSize !== undefined) ops.push('- op: replace', '  path: /spec/volumeClaimTemplates/0/spec/resources/requests/storage', `  value: ${q(settings.storageSize)}`);
    if (settings.storageClass !== undefined) ops.push('- op: add', '  path: /spec/volumeClaimTemplates/0/spec/storageClassName', `  value: ${q(settings.storageClass)}`);
    files.set('patches/statefulset-storage.yaml', `---\n${ops.join('\n')}\n`);
    patches.push('  # Size and class of each broker\'s volume.\n  - path: patches/statefulset-storage.yaml\n    target: {kind: StatefulSet, name: emqx}');
  }
  if (entry.zones && entry.zones.length > 0) {
    files.set(
      'patches/statefulset-zones.yaml',
      `---\n# The zones of clusters/inventory.yaml: brokers run only there${features.zoneSpread ? ', spread across them (components/zone-spread)' : ''}.\n` +
        'apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: emqx\nspec:\n  template:\n    spec:\n      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n              - matchExpressions:\n                  - key: topology.kubernetes.io/zone\n                    operator: In\n                    values:\n' +
        entry.zones.map((z) => `                      - ${q(z)}\n`).join(''),
    );
    patches.push('  # Only in this cluster\'s zones.\n  - path: patches/statefulset-zones.yaml');
  }
  if (settings.loadBalancerAnnotations && Object.keys(settings.loadBalancerAnnotations).length > 0) {
    const annotations = Object.entries(settings.loadBalancerAnnotations).map(([k, v]) => `    ${q(k)}: ${JSON.stringify(v)}\n`).join('');
    files.set('patches/service-loadbalancer-annotations.yaml', `---\n# What this cluster's load balancer controller reads.\napiVersion: v1\nkind: Service\nmetadata:\n  name: emqx-external\n  annotations:\n${annotations}`);
    patches.push('  # This cloud\'s load balancer settings.\n  - path: patches/service-loadbalancer-annotations.yaml');
  }
  const certOps: string[] = [];
  if (settings.clusterDomain !== undefined && features.tls) {
    // The overlay's certificate-names transformer already put svc.cluster.local into the names: a
    // cluster domain set here must replace those two names too (indexes as in components/tls).
    const suffix = `svc.${settings.clusterDomain}`;
    certOps.push(
      '- op: test', '  path: /spec/dnsNames/3', `  value: ${q(`emqx.${namespace}.svc.cluster.local`)}`,
      '- op: replace', '  path: /spec/dnsNames/3', `  value: ${q(`emqx.${namespace}.${suffix}`)}`,
      '- op: replace', '  path: /spec/dnsNames/4', `  value: ${q(`*.emqx-headless.${namespace}.${suffix}`)}`,
    );
  }
  for (const name of settings.tlsNames ?? []) certOps.push('- op: add', '  path: /spec/dnsNames/-', `  value: ${q(name)}`);
  if (certOps.length > 0) {
    files.set('patches/certificate-names.yaml', `---\n# The names clients of this cluster dial${settings.clusterDomain !== undefined && features.tls ? ', and its cluster domain' : ''}.\n${certOps.join('\n')}\n`);
    patches.push('  # This cluster\'s certificate names.\n  - path: patches/certificate-names.yaml\n    target: {kind: Certificate, name: emqx-tls}');
  }
  if (features.externalSecrets) {
    files.set(
      'patches/externalsecret-keys.yaml',
      `---\n# This cluster's own cookie and dashboard password in the store: two clusters that shared a cookie\n# could join each other's nodes (\`npm run fleet -- report\` flags a shared key).\n` +
        `- op: test\n  path: /spec/data/0/secretKey\n  value: node-cookie\n- op: replace\n  path: /spec/data/0/remoteRef/key\n  value: ${q(`emqx/${entry.name}/node-cookie`)}\n` +
        `- op: test\n  path: /spec/data/1/secretKey\n  value: dashboard-password\n- op: replace\n  path: /spec/data/1/remoteRef/key\n  value: ${q(`emqx/${entry.name}/dashboard-password`)}\n`,
    );
    patches.push('  # This cluster\'s own secrets in the store.\n  - path: patches/externalsecret-keys.yaml\n    target: {kind: ExternalSecret, name: emqx-secrets}');
  }

  const description = entry.description ? `# ${entry.description}\n` : '';
  files.set(
    'kustomization.yaml',
    '---\n# yaml-language-server: $schema=https://json.schemastore.org/kustomization.json\n' +
      `# Cluster ${entry.name} (${entry.region}): overlays/${entry.overlay} with this cluster's settings, and only those.\n` +
      description +
      '# clusters/inventory.yaml says it exists and how Argo CD and Flux reach it. Written by\n' +
      '# `npm run fleet -- add`; yours to edit: add your own patches below (docs/fleet.md).\n' +
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\n' +
      `resources:\n  # Everything but this cluster's settings; must be the overlay the inventory names.\n  - ../../overlays/${entry.overlay}\n` +
      (components.length > 0 ? `\ncomponents:\n${components.join('\n')}\n` : '') +
      extra.map((e) => `\n${e}`).join('') +
      (patches.length > 0 ? `\npatches:\n${patches.join('\n')}\n` : ''),
  );
  return files;
}

/** What a cluster directory builds on: the `../../overlays/<name>` entries of its resources. */
export function overlaysReferenced(kustomization: unknown): string[] {
  const resources = Array.isArray(asRecord(kustomization).resources) ? (asRecord(kustomization).resources as unknown[]).map(String) : [];
  return resources.map((r) => /^(?:\.\.\/\.\.\/)overlays\/([^/]+)\/?$/.exec(r)?.[1]).filter((r): r is string => r !== undefined);
}

/**
 * Where the cluster directories and the inventory disagree; each problem names both sides and the
 * two ways to fix it.
 */
export function clusterDirProblems(clusters: readonly Cluster[], clustersDir: string, shown: (p: string) => string, inventoryFile: string): string[] {
  const problems: string[] = [];
  const dirs = listClusters(clustersDir).map((c) => c.name);
  const listed = new Set(clusters.map((c) => c.name));
  for (const name of dirs.filter((d) => !listed.has(d))) {
    problems.push(
      `${shown(path.join(clustersDir, name))}/ exists, but ${shown(inventoryFile)} has no cluster "${name}": no Argo CD Application or Flux folder deploys it. ` +
        `Fix: add an entry \`- name: ${name}\` (overlay, server, region) to the inventory, or delete the directory.`,
    );
  }
  for (const c of clusters) {
    const file = kustomizationFileIn(c.dir);
    if (!file) {
      problems.push(
        `${shown(inventoryFile)} lists cluster "${c.name}", but ${shown(c.dir)}/ ${existsSync(c.dir) ? 'holds no kustomization.yaml' : 'does not exist'}. ` +
          `Fix: restore the directory (\`npm run fleet -- add\` writes a new one), or remove the entry to take the cluster out of the fleet (docs/fleet.md, "Removing a cluster").`,
      );
      continue;
    }
    let referenced: string[];
    try {
      referenced = overlaysReferenced(parse(readFileSync(file, 'utf8')));
    } catch (error) {
      problems.push(`${shown(file)}: not valid YAML (${error instanceof Error ? error.message.split('\n')[0] : String(error)}). Fix the file.`);
      continue;
    }
    if (referenced.length !== 1 || referenced[0] !== c.overlay) {
      const found = referenced.length === 0 ? 'builds on no overlay (no `../../overlays/<name>` under resources)' : `builds on ${referenced.map((r) => `overlays/${r}`).join(' and ')}`;
      problems.push(
        `${shown(file)}: field resources: the directory ${found}, but ${shown(inventoryFile)} says cluster "${c.name}" runs overlays/${c.overlay}. ` +
          `Fix: list exactly \`- ../../overlays/${c.overlay}\`, or change the entry's overlay.`,
      );
    }
  }
  return problems;
}
