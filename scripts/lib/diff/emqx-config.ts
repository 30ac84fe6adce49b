// Diff warnings from the EMQX configuration catalogue: a change that sets (or renames) an `EMQX_*`
// variable to a path EMQX does not know, and the settings whose default changes with an EMQX
// version bump. The lookups are the model's (scripts/lib/model/emqx-catalogue.ts), shared with validate.
import { describeId, idOf } from './objects.ts';
import type { DiffWarning } from './types.ts';
import { type Catalogue, catalogueCommand, closestEnvNames, emqxVersionOfImage, loadCatalogue, lookupEnv } from '../model/emqx-catalogue.ts';
import { emqxWorkloadsWithSettings } from '../model/emqx.ts';
import { asString, type K8sObject } from '../model/object.ts';
import type { EmqxWorkload } from '../model/workloads.ts';

type Loader = (version: string) => Catalogue | undefined;

interface Side {
  readonly workload: EmqxWorkload;
  readonly version: string | undefined;
  /** `EMQX_*` name -> value, as the container sees them. */
  readonly vars: ReadonlyMap<string, string>;
}

/** How many changed defaults a warning lists before it says "and N more". */
const MAX_LISTED = 15;

function sides(objects: readonly K8sObject[]): Side[] {
  return emqxWorkloadsWithSettings(objects).map(({ settings, ...workload }) => {
    const vars = new Map([...settings.env.vars.values()].filter((v) => v.name.startsWith('EMQX_')).map((v) => [v.name, v.value]));
    return { workload, version: emqxVersionOfImage(asString(workload.container.image) ?? ''), vars };
  });
}

function pair(base: readonly Side[], head: readonly Side[]): Array<[Side | undefined, Side]> {
  if (base.length === 1 && head.length === 1) return [[base[0], head[0]!]];
  return head.map((h) => [base.find((b) => b.workload.object.metadata.name === h.workload.object.metadata.name), h]);
}

function known(catalogue: Catalogue, name: string): boolean {
  if (name in catalogue.startScript || name in catalogue.alsoValid) return true;
  const found = lookupEnv(catalogue, name);
  return found !== undefined && found.found;
}

function unknownWarnings(overlay: string, b: Side | undefined, h: Side, catalogue: Catalogue, bumped: boolean): DiffWarning[] {
  const object = describeId(idOf(h.workload.object));
  const warnings: DiffWarning[] = [];
  for (const [name, value] of h.vars) {
    const isNew = !b?.vars.has(name);
    // What the change introduces, and after a version bump everything (a path may have gone).
    if ((!isNew && !bumped) || known(catalogue, name)) continue;
    const renamedFrom = isNew && b ? [...b.vars].find(([old, oldValue]) => !h.vars.has(old) && oldValue === value)?.[0] : undefined;
    const how = renamedFrom ? `renamed from \`${renamedFrom}\`` : isNew ? 'set by this change' : `kept from EMQX ${b?.version ?? '?'}`;
    const close = closestEnvNames(catalogue, name);
    warnings.push({
      overlay,
      rule: 'emqx-config-unknown',
      object,
      message: `\`${name}\` (${how}) is not an EMQX ${catalogue.emqx} setting (catalogue/emqx-${catalogue.emqx}.json): EMQX ignores it and the setting keeps its default.`,
      remedy: close.length > 0 ? `Did you mean ${close.map((c) => `\`${c}\``).join(' or ')}? \`npm run validate\` reports it as emqx/config-unknown.` : 'Correct the name against the EMQX configuration reference, or remove the variable.',
    });
  }
  return warnings;
}

function defaultWarnings(overlay: string, b: Side, h: Side, load: Loader): DiffWarning[] {
  const from = b.version!;
  const to = h.version!;
  const object = describeId(idOf(h.workload.object));
  const before = load(from);
  const after = load(to);
  if (!before || !after) {
    const missing = [before ? undefined : from, after ? undefined : to].filter((v): v is string => v !== undefined);
    return [
      {
        overlay,
        rule: 'emqx-config-default',
        object,
        message: `The image moves from EMQX ${from} to ${to}, and there is no catalogue of EMQX ${missing.join(' or ')}: the settings whose defaults change could not be compared.`,
        remedy: `Read the EMQX ${to} changelog for changed defaults, or add the missing catalogue: ${missing.map((v) => `\`${catalogueCommand(v)}\``).join(', ')}.`,
      },
    ];
  }
  const set = new Set([...h.vars.keys()].map((name) => {
    const found = lookupEnv(after, name);
    return found?.found ? found.path : '';
  }));
  const changed = Object.entries(after.paths).flatMap(([p, entry]) => {
    const old = before.paths[p];
    if (!old || p.includes('$') || old.default === entry.default || set.has(p)) return [];
    return [`\`${p}\` ${old.default ?? '(none)'} -> ${entry.default ?? '(none)'}`];
  });
  if (changed.length === 0) return [];
  const listed = changed.slice(0, MAX_LISTED).join(', ') + (changed.length > MAX_LISTED ? `, and ${changed.length - MAX_LISTED} more` : '');
  return [
    {
      overlay,
      rule: 'emqx-config-default',
      object,
      message: `The image moves from EMQX ${from} to ${to}, which changes the defaults of settings this render does not set: ${listed}.`,
      remedy: `Check that each new default suits this cluster; to keep an old one, set it (for \`a.b\`: \`EMQX_A__B\`). The catalogues list every default: catalogue/emqx-${from}.json, catalogue/emqx-${to}.json.`,
    },
  ];
}

/** Every catalogue warning for one overlay, given its base and head objects (either may be empty). */
export function emqxConfigWarnings(overlay: string, base: readonly K8sObject[], head: readonly K8sObject[], load: Loader = loadCatalogue): DiffWarning[] {
  const warnings: DiffWarning[] = [];
  for (const [b, h] of pair(sides(base), sides(head))) {
    if (h.version === undefined || /emqx-enterprise/.test(asString(h.workload.container.image) ?? '')) continue;
    const bumped = b !== undefined && b.version !== undefined && b.version !== h.version;
    const catalogue = load(h.version);
    if (catalogue) warnings.push(...unknownWarnings(overlay, b, h, catalogue, bumped));
    if (bumped) warnings.push(...defaultWarnings(overlay, b, h, load));
  }
  return warnings;
}
