// What `npm run e2e` prints once every stage passed: per engine, what each push did, and the stage timings.
import type { ArgoCdRun, E2eReport, FluxRun } from './run.ts';
import type { StageTiming } from './context.ts';

export function formatE2eReport(report: E2eReport): string {
  return report.runs.map((r) => (r.engine === 'flux' ? formatFluxRun(r) : formatArgoCdRun(r))).join('\n');
}

const yes = (b: boolean) => (b ? 'yes' : 'NO');

function formatStages(stages: readonly StageTiming[]): string[] {
  const out = ['stages:'];
  for (const s of stages) out.push(`  ${s.seconds.toFixed(1).padStart(6)} s  ${s.name}`);
  out.push(`  ${stages.reduce((a, s) => a + s.seconds, 0).toFixed(1).padStart(6)} s  in all`);
  return out;
}

function formatArgoCdRun(r: ArgoCdRun): string {
  const out: string[] = ['Argo CD:'];
  out.push(`bootstrap (${r.bootstrap.commit.slice(0, 12)}): ${r.bootstrap.applications.map((a) => `${a.name} ${a.sync}/${a.health}`).join(', ')}`);
  for (const w of r.bootstrap.workloads) out.push(`  ${w.workload}: ${w.readyPods} pods Ready`);
  if (r.bootstrap.standIns.length > 0) out.push(`  written in place of cert-manager and External Secrets: ${r.bootstrap.standIns.join(', ')}`);
  out.push(`EMQX setting (${r.configChange.commit.slice(0, 12)}):`);
  for (const w of r.configChange.rolled) out.push(`  ${w.workload}: ${w.from.join(',')} -> ${w.to.join(',')}, pods re-created: ${yes(w.podsRecreated)}`);
  out.push(`volumeClaimTemplates (${r.immutable.commit.slice(0, 12)}):`);
  for (const w of r.immutable.diffWarnings) out.push(`  npm run diff, ${w.overlay}: ${w.rule} on ${w.object}`);
  for (const o of r.immutable.observed) out.push(`  Argo CD, ${o.application}: ${o.states.join(' -> ')}; the live claim template stays ${o.liveClaimSize}`);
  for (const w of r.immutable.recovered) {
    out.push(`  after the orphan delete and a refresh, ${w.workload}: new StatefulSet ${yes(w.newStatefulSet)}, same pods ${yes(w.samePods)}, same claims ${yes(w.sameClaims)} (${w.claimSizes.join(', ')}), template ${w.templateClaimSize}`);
  }
  for (const t of r.replace) {
    out.push(`${t.option} (${t.commit.slice(0, 12)}), ${t.workload}: after the push ${t.stateAfterPush}; sync ${t.operationPhase}: ${shortenInvalidValue(t.operationMessage.split('\n')[0] ?? '')}`);
    out.push(`  new StatefulSet ${yes(t.newStatefulSet)}, every pod replaced ${yes(t.everyPodReplaced)}, same claims ${yes(t.sameClaims)} (${t.claimSizes.join(', ')}), template ${t.templateClaimSize}`);
  }
  out.push(`overlay removed (${r.removal.commit.slice(0, 12)}): overlays/${r.removal.overlay}, Application ${r.removal.application} deleted (finalizers: ${r.removal.finalizers.join(', ') || 'none'})`);
  out.push(`  pruned by Argo CD: ${r.removal.pruned.join(', ')}`);
  out.push(`  kept: ${r.removal.kept.join(', ')}`);
  out.push(`${r.uninstall.command}: Applications kept: ${r.uninstall.applicationsKept.join(', ') || 'none'}`);
  for (const w of r.uninstall.workloads) out.push(`  ${w.workload}: same pods ${yes(w.samePods)}, Ready ${yes(w.ready)}`);
  out.push(`fleet (${r.fleet.commit.slice(0, 12)}):`);
  for (const c of r.fleet.clusters) out.push(`  ${c.application} -> ${c.destination}: ${c.sync}/${c.health}, ${c.workload} ${c.readyPods} pods Ready`);
  const gone = r.fleet.removed;
  out.push(`  ${gone.cluster} left the inventory (${gone.commit.slice(0, 12)}): Application kept ${yes(gone.applicationKept)} (${gone.state}), same pods ${yes(gone.samePods)}, Ready ${yes(gone.ready)}`);
  out.push(...formatStages(r.stages));
  return `${out.join('\n')}\n`;
}

function formatFluxRun(r: FluxRun): string {
  const out: string[] = ['Flux:'];
  out.push(`bootstrap (${r.bootstrap.commit.slice(0, 12)}): ${r.bootstrap.kustomizations.map((k) => k.name).join(', ')} Ready`);
  for (const w of r.bootstrap.workloads) out.push(`  ${w.workload}: ${w.readyPods} pods Ready`);
  if (r.bootstrap.standIns.length > 0) out.push(`  written in place of cert-manager and External Secrets: ${r.bootstrap.standIns.join(', ')}`);
  out.push(`EMQX setting (${r.configChange.commit.slice(0, 12)}):`);
  for (const d of r.configChange.diff) out.push(`  npm run diff, ${d.overlay}: ConfigMap ${d.from} -> ${d.to} (${d.paths.join(', ')})`);
  for (const w of r.configChange.rolled) out.push(`  ${w.workload}: ${w.from.join(',')} -> ${w.to.join(',')}, pods re-created: ${w.podsRecreated ? 'yes' : 'NO'}`);
  out.push(`volumeClaimTemplates (${r.immutable.commit.slice(0, 12)}):`);
  for (const w of r.immutable.diffWarnings) out.push(`  npm run diff, ${w.overlay}: ${w.rule} on ${w.object}`);
  for (const f of r.immutable.failed) out.push(`  Flux, ${f.kustomization}: Ready=False: ${shortenInvalidValue(f.message.split('\n')[0] ?? '')}`);
  if (r.immutable.unaffectedReady.length > 0) out.push(`  still Ready: ${r.immutable.unaffectedReady.join(', ')}`);
  for (const w of r.immutable.recovered) {
    out.push(`  after the orphan delete and a reconcile, ${w.workload}: new StatefulSet ${w.newStatefulSet ? 'yes' : 'NO'}, same pods ${w.samePods ? 'yes' : 'NO'}, same claims ${w.sameClaims ? 'yes' : 'NO'} (${w.claimSizes.join(', ')})`);
  }
  out.push(`Flux's force (${r.force.commit.slice(0, 12)}), ${r.force.workload}: new StatefulSet ${r.force.newStatefulSet ? 'yes' : 'NO'}, every pod replaced ${r.force.everyPodReplaced ? 'yes' : 'NO'}, same claims ${r.force.sameClaims ? 'yes' : 'NO'} (${r.force.claimSizes.join(', ')})`);
  out.push(`overlay removed (${r.removal.commit.slice(0, 12)}): overlays/${r.removal.overlay}`);
  for (const g of r.removal.generated) out.push(`  npm run gitops:flux: ${g}`);
  out.push(`  pruned by Flux: ${r.removal.pruned.map(describeEntry).join(', ')}`);
  if (r.removal.notPruned.length > 0) out.push(`  not checked: ${r.removal.notPruned.join(', ')}`);
  out.push(`  kept: ${r.removal.kept.join(', ')}`);
  const w = r.waves;
  const at = (c: { cluster: string; wave: number; branch: string; applied: string; ready: boolean }) => `${c.cluster} (wave ${c.wave}, ${c.branch}) at ${c.applied.slice(0, 12)}${c.ready ? ', Ready' : ', NOT Ready'}`;
  out.push(`waves: ${w.bootstrap.map(at).join('; ')}`);
  out.push(`  change (${w.change.commit.slice(0, 12)}): ${at(w.change.wave1)}; ${at(w.change.wave2)}`);
  out.push(`  promote --wave 2: ${w.promotion.output}; then ${at(w.promotion.wave2)}; again: exit ${w.promotion.again.exitCode}, ${firstLine(w.promotion.again.stderr)}`);
  out.push(`  unhealthy change (${w.unhealthy.commit.slice(0, 12)}): wave 1 Ready=${w.unhealthy.wave1.ready.slice(0, 120)}`);
  out.push(`  promote --wave 2: exit ${w.unhealthy.refusal.exitCode}, ${firstLine(w.unhealthy.refusal.stderr)}; ${at(w.unhealthy.wave2)}, same pods ${w.unhealthy.wave2SamePods ? 'yes' : 'NO'}`);
  out.push(...formatStages(r.stages));
  return `${out.join('\n')}\n`;
}

function firstLine(text: string): string {
  return text.trim().split('\n').find((l) => !l.startsWith('wave ')) ?? '';
}

/** `emqx-x_emqx_apps_StatefulSet` -> `StatefulSet emqx-x/emqx`. */
export function describeEntry(id: string): string {
  const [namespace, name, , kind] = id.split('_');
  return `${kind} ${namespace ? `${namespace}/` : ''}${name}`;
}

/** The API server quotes the whole rejected value (a long Go struct dump): keep the field and the verdict. */
export function shortenInvalidValue(message: string): string {
  return message.replace(/Invalid value: (\[|\{).*\]: /, 'Invalid value: [...]: ').replace(/Invalid value: \{.*\}: /, 'Invalid value: {...}: ');
}
