// The pushes both engines receive, and what `npm run diff` must say about each before it is pushed:
// an EMQX setting every overlay reads (a new ConfigMap hash), and a new claim size in
// components/persistence (an immutable field of the StatefulSets that use it).
import { diffCommits, type DiffJson } from './commands.ts';
import type { E2eContext } from './context.ts';
import type { WorkloadRef } from './cluster.ts';

/** The EMQX setting the e2e adds to base/emqx.env (log.console.level). */
export const E2E_SETTING = { key: 'EMQX_LOG__CONSOLE__LEVEL', value: 'warning' } as const;
export const PERSISTENCE_PATCH = 'components/persistence/patches/statefulset-persistence.yaml';

export interface ConfigMapChange {
  readonly overlay: string;
  readonly from: string;
  readonly to: string;
  readonly paths: readonly string[];
}

/** Commits the setting (not pushed) and checks that the diff shows it in every deployed overlay's ConfigMap. */
export async function commitSetting(ctx: E2eContext): Promise<{ commit: string; diff: ConfigMapChange[] }> {
  await ctx.repo.edit('base/emqx.env', (t) => `${t.trimEnd()}\n# e2e: a setting every overlay reads (log.console.level).\n${E2E_SETTING.key}=${E2E_SETTING.value}\n`);
  const base = await ctx.repo.head();
  const commit = await ctx.repo.commit(`base: ${E2E_SETTING.key}=${E2E_SETTING.value}`);
  const report = await diffCommits(ctx.repo.work, base, commit);
  // The diff also reports what else renders from overlays/ (fleet clusters): keep the deployed overlays.
  const diff = configMapChanges(report).filter((d) => ctx.overlays.includes(d.overlay));
  const missing = ctx.overlays.filter((o) => !diff.some((d) => d.overlay === o && d.paths.some((p) => p.includes(E2E_SETTING.key))));
  if (missing.length > 0) throw new Error(`npm run diff did not show ${E2E_SETTING.key} in the ConfigMap of ${missing.join(', ')}`);
  return { commit, diff };
}

export interface ImmutableWarning {
  readonly overlay: string;
  readonly rule: string;
  readonly object: string;
  readonly message: string;
}

/** Commits claims of `size` (not pushed) and returns the diff's immutable-field warnings for the deployed overlays. */
export async function commitClaimSize(ctx: E2eContext, size: string): Promise<{ commit: string; warnings: ImmutableWarning[] }> {
  const base = await ctx.repo.head();
  await ctx.repo.edit(PERSISTENCE_PATCH, (t) => t.replace(/storage: \d+Gi/, `storage: ${size}`));
  const commit = await ctx.repo.commit(`persistence: claims of ${size}`);
  const report = await diffCommits(ctx.repo.work, base, commit);
  const warnings = report.overlays
    .filter((o) => ctx.overlays.includes(o.name))
    .flatMap((o) => o.warnings.filter((w) => w.rule === 'immutable-field').map((w) => ({ overlay: o.name, rule: w.rule, object: w.object, message: w.message })));
  if (warnings.length === 0) throw new Error(`npm run diff gave no immutable-field warning for the change of ${PERSISTENCE_PATCH}`);
  return { commit, warnings };
}

export function statefulSetOf(overlay: string): WorkloadRef {
  return { kind: 'StatefulSet', namespace: `emqx-${overlay}`, name: 'emqx' };
}

function configMapChanges(report: DiffJson): ConfigMapChange[] {
  return report.overlays.flatMap((o) =>
    o.changes.filter((c) => c.id.kind === 'ConfigMap' && c.previousName !== undefined).map((c) => ({ overlay: o.name, from: c.previousName!, to: c.id.name, paths: [...c.paths] })),
  );
}
