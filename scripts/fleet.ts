// npm run fleet -- add|generate|report
// The fleet: clusters/inventory.yaml lists the clusters, clusters/<name>/ holds each one's settings,
// and the GitOps files (gitops/argocd/fleet, gitops/flux/clusters) are generated from the inventory.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { formatOption, parseCommandLine } from './lib/cli/cli.ts';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError } from './lib/cli/errors.ts';
import { addCluster } from './lib/fleet/add.ts';
import type { ClusterSettings } from './lib/fleet/cluster-dir.ts';
import { describeFleetDrift, isUpToDate, planFleet } from './lib/fleet/generate.ts';
import { MAX_WAVE, readInventory } from './lib/fleet/inventory.ts';
import { findKubectl, promoteWave } from './lib/fleet/promote.ts';
import { readRepositorySettings } from './lib/gitops/repository.ts';
import { formatReport, fleetReport, REPORT_FORMATS, type ReportFormat } from './lib/fleet/report.ts';
import { FLEET_GENERATE_COMMAND } from './lib/gitops/fleet.ts';
import { writeTree } from './lib/gitops/generated.ts';
import { findKustomize } from './lib/tools/kustomize.ts';
import { findOras } from './lib/tools/oras.ts';
import { runMain } from './lib/cli/main.ts';
import { REPO_ROOT } from './lib/util/paths.ts';

const USAGE = `usage: npm run fleet -- <command> [options]

  add NAME --overlay OVERLAY --server URL --region REGION [--zone ZONE ...] [--wave N] [--description TEXT]
      [--replicas N] [--storage-size SIZE] [--storage-class CLASS] [--cluster-domain DOMAIN]
      [--lb-annotation KEY=VALUE ...] [--tls-name NAME ...]
                 adds the cluster to clusters/inventory.yaml, writes clusters/NAME/ and the GitOps files
  generate [--check]
                 writes gitops/argocd/fleet and gitops/flux/clusters from the inventory; --check
                 writes nothing and exits 1 when they, or the cluster directories, disagree with it
  report [--format text|markdown|json]
                 per cluster, every rendered field that differs from its overlay's own render, and
                 clusters that would share a server or an identity
  promote --wave N --kubeconfig FILE [--remote NAME] [--ca-file CA]
                 moves what wave N follows to the commit wave N-1 runs, once every cluster of wave
                 N-1 is Ready at it: the branch fleet/wave-N (pushed to NAME, default origin), and
                 the wave-N tag of each OCI site of wave N (in the registry its entry names; CA for
                 a registry with a private CA); each cluster is read through the context of FILE
                 named after it

  --root DIR     the repository to work on (default: this one)

exit codes: 0 done and clean, 1 a problem in the inventory or the directories (or drift with
--check, a shared identity in the report, or a promotion refused: a cluster of the wave before
not Ready, an OCI site with no artifact of the commit, or nothing to promote), 2 usage or tool
error`;

/** A wave number as the command line gives it: 1 to MAX_WAVE. */
function isWave(text: string): boolean {
  return /^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= MAX_WAVE;
}

await runMain(async () => {
  const { values, positionals } = parseCommandLine(
    process.argv.slice(2),
    {
      check: { type: 'boolean' },
      root: { type: 'string' },
      format: { type: 'string' },
      overlay: { type: 'string' },
      server: { type: 'string' },
      region: { type: 'string' },
      zone: { type: 'string', multiple: true },
      wave: { type: 'string' },
      kubeconfig: { type: 'string' },
      remote: { type: 'string' },
      'ca-file': { type: 'string' },
      description: { type: 'string' },
      replicas: { type: 'string' },
      'storage-size': { type: 'string' },
      'storage-class': { type: 'string' },
      'cluster-domain': { type: 'string' },
      'lb-annotation': { type: 'string', multiple: true },
      'tls-name': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  const root = path.resolve(values.root ?? REPO_ROOT);
  const [command, ...rest] = positionals;
  const allowed: Record<string, readonly string[]> = {
    add: ['overlay', 'server', 'region', 'zone', 'wave', 'description', 'replicas', 'storage-size', 'storage-class', 'cluster-domain', 'lb-annotation', 'tls-name', 'root'],
    generate: ['check', 'root'],
    report: ['format', 'root'],
    promote: ['wave', 'kubeconfig', 'remote', 'ca-file', 'root'],
  };
  if (!command || !(command in allowed)) throw new UsageError(command ? `unknown command ${command}` : 'no command given', USAGE);
  const stray = Object.keys(values).filter((k) => k !== 'help' && !allowed[command]!.includes(k));
  if (stray.length > 0) throw new UsageError(`${command} does not take --${stray[0]}`, USAGE);

  if (command === 'add') {
    if (rest.length !== 1) throw new UsageError('add takes exactly one NAME', USAGE);
    for (const flag of ['overlay', 'server', 'region'] as const) if (!values[flag]) throw new UsageError(`add needs --${flag}`, USAGE);
    const annotations = Object.fromEntries(
      (values['lb-annotation'] ?? []).map((a) => {
        const at = a.indexOf('=');
        if (at <= 0) throw new UsageError(`--lb-annotation ${a}: expected KEY=VALUE`, USAGE);
        return [a.slice(0, at), a.slice(at + 1)];
      }),
    );
    if (values.wave !== undefined && !isWave(values.wave)) throw new UsageError(`--wave ${values.wave}: expected a wave from 1 to ${MAX_WAVE}`, USAGE);
    const replicas = values.replicas === undefined ? undefined : Number(values.replicas);
    const settings: ClusterSettings = {
      ...(replicas !== undefined ? { replicas } : {}),
      ...(values['storage-size'] ? { storageSize: values['storage-size'] } : {}),
      ...(values['storage-class'] ? { storageClass: values['storage-class'] } : {}),
      ...(values['cluster-domain'] ? { clusterDomain: values['cluster-domain'] } : {}),
      ...(Object.keys(annotations).length > 0 ? { loadBalancerAnnotations: annotations } : {}),
      ...(values['tls-name'] ? { tlsNames: values['tls-name'] } : {}),
    };
    const entry = {
      name: rest[0]!,
      overlay: values.overlay!,
      server: values.server!,
      region: values.region!,
      ...(values.zone ? { zones: values.zone } : {}),
      ...(values.wave !== undefined ? { wave: Number(values.wave) } : {}),
      ...(values.description ? { description: values.description } : {}),
    };
    for (const file of await addCluster(root, entry, settings)) process.stdout.write(`wrote   ${file}\n`);
    return generate(root, false);
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`, USAGE);
  if (command === 'generate') return generate(root, values.check === true);
  if (command === 'promote') {
    if (values.wave === undefined || !isWave(values.wave)) throw new UsageError(`promote needs --wave N, from 2 to ${MAX_WAVE}${values.wave === undefined ? '' : ` (not ${values.wave})`}`, USAGE);
    if (!values.kubeconfig) throw new UsageError('promote needs --kubeconfig FILE: one context per cluster of the wave before, named as the cluster', USAGE);
    const wave = Number(values.wave);
    const { clusters } = readInventory({ root });
    const { revision } = readRepositorySettings(root);
    const last = Math.max(1, ...clusters.map((c) => c.wave));
    if (wave === 1) throw new UsageError(`wave 1 follows ${revision} itself (gitops/repository/repository.env): a merge reaches it with nothing to promote`, USAGE);
    if (wave > last) throw new UsageError(`--wave ${wave}: the inventory's last wave is ${last}`, USAGE);
    const caFile = values['ca-file'] ? path.resolve(values['ca-file']) : undefined;
    if (caFile && !existsSync(caFile)) throw new UsageError(`--ca-file ${values['ca-file']}: no such file`, USAGE);
    const plan = await promoteWave({
      repo: root,
      remote: values.remote ?? 'origin',
      branch: revision,
      wave,
      clusters,
      kubeconfig: path.resolve(values.kubeconfig),
      kubectlBin: await findKubectl(),
      registryAccess: async () => ({ oras: await findOras(), ...(caFile ? { caFile } : {}) }),
      log: (l) => process.stderr.write(`${l}\n`),
    });
    for (const m of plan.moves) process.stdout.write(`promoted wave ${wave}: ${m.name} ${m.from ? `${m.from.slice(0, 12)} -> ` : '(new) '}${plan.to.slice(0, 12)}, what wave ${wave - 1} runs\n`);
    return EXIT_OK;
  }

  const format: ReportFormat = formatOption(values.format, REPORT_FORMATS, USAGE);
  const report = await fleetReport(root, await findKustomize());
  process.stdout.write(formatReport(report, format));
  return report.failures.length > 0 || report.shared.length > 0 ? EXIT_FINDINGS : EXIT_OK;
});

async function generate(root: string, check: boolean): Promise<typeof EXIT_OK | typeof EXIT_FINDINGS | typeof EXIT_USAGE> {
  const plan = planFleet(root);
  let code: typeof EXIT_OK | typeof EXIT_FINDINGS = EXIT_OK;
  if (plan.dirProblems.length > 0) {
    process.stderr.write(`${plan.dirProblems.join('\n')}\n`);
    code = EXIT_FINDINGS;
  }
  if (isUpToDate(plan.drift)) {
    if (code === EXIT_OK) process.stdout.write(`the fleet's GitOps files are up to date (${plan.inventory.clusters.length} clusters).\n`);
    return code;
  }
  if (check) {
    process.stderr.write(`${describeFleetDrift(plan)}\n`);
    return EXIT_FINDINGS;
  }
  for (const line of await writeTree(plan.tree, plan.drift)) process.stdout.write(`${line}\n`);
  if (code !== EXIT_OK) process.stderr.write(`the GitOps files are written, but the directories above disagree with the inventory; \`${FLEET_GENERATE_COMMAND} --check\` fails until they agree.\n`);
  return code;
}
