// The shared stage "an EMQX setting rolls every workload": whatever the engine, a push of a setting
// in base/emqx.env must give every workload a new ConfigMap and re-create every pod on it.
import { describeWorkload, podsOf, rolledOut, templateConfigMaps } from './cluster.ts';
import type { E2eContext } from './context.ts';
import type { EngineSync } from './engine.ts';
import { commitSetting, type ConfigMapChange } from './pushes.ts';

export interface ConfigChangeReport {
  readonly commit: string;
  /** Per overlay, the generated ConfigMap the diff paired across its new hash, and the changed keys. */
  readonly diff: readonly ConfigMapChange[];
  readonly rolled: ReadonlyArray<{ readonly workload: string; readonly from: string[]; readonly to: string[]; readonly podsRecreated: boolean; readonly podsOnNewConfigMap: boolean }>;
}

export async function pushSettingAndRoll(ctx: E2eContext, engine: EngineSync): Promise<ConfigChangeReport> {
  const { plane } = ctx;
  const workloads = await engine.workloads(ctx);
  const before = new Map<string, { cms: string[]; pods: string[] }>();
  for (const w of workloads) before.set(describeWorkload(w), { cms: await templateConfigMaps(plane, w), pods: (await podsOf(plane, w)).map((p) => p.uid) });
  const { commit, diff } = await commitSetting(ctx);
  await ctx.repo.push();
  await engine.syncTo(ctx, commit);
  const rolled = [];
  for (const w of workloads) {
    const was = before.get(describeWorkload(w))!;
    await ctx.wait(`${describeWorkload(w)} to roll onto a new ConfigMap`, async () => {
      const r = await rolledOut(plane, w);
      if (r !== true) return r;
      const cms = await templateConfigMaps(plane, w);
      if (cms.join() === was.cms.join()) return `the pod template still reads ${cms.join(', ')}`;
      const pods = await podsOf(plane, w);
      const stale = pods.filter((p) => was.pods.includes(p.uid) || p.configMaps.join() !== cms.join());
      return stale.length === 0 ? true : `${stale.map((p) => p.name).join(', ')} not yet re-created on ${cms.join(', ')}`;
    });
    const pods = await podsOf(plane, w);
    const to = await templateConfigMaps(plane, w);
    rolled.push({
      workload: describeWorkload(w),
      from: was.cms,
      to,
      podsRecreated: pods.every((p) => !was.pods.includes(p.uid)),
      podsOnNewConfigMap: pods.every((p) => p.configMaps.join() === to.join()),
    });
  }
  return { commit, diff, rolled };
}
