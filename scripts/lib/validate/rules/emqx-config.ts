// Every `EMQX_*` variable a broker container gets (env and envFrom) against the catalogue of the
// image's EMQX version (catalogue/emqx-<version>.json): the path exists, the value is one the type
// accepts, map keys follow the schema's rules, and the edition does not refuse the value.
import { findingFor } from '../finding.ts';
import type { Rule, RuleContext, RuleFinding } from '../types.ts';
import { emqxWorkloadsWithSettings, type EmqxSettings } from '../../model/emqx.ts';
import {
  acceptsValue,
  type Catalogue,
  catalogueCommand,
  closestEnvNames,
  concretePath,
  describeType,
  emqxVersionOfImage,
  envSegments,
  isRuntimeValue,
  loadCatalogue,
  lookupEnv,
} from '../../model/emqx-catalogue.ts';
import type { ResolvedVar } from '../../model/env.ts';
import { asString } from '../../model/object.ts';
import { emqxWorkloads, type EmqxWorkload } from '../../model/workloads.ts';
import { LEGACY_KEYS } from './emqx-legacy-config.ts';

interface Checked {
  readonly workload: EmqxWorkload;
  readonly settings: EmqxSettings;
  readonly catalogue: Catalogue;
  readonly version: string;
  readonly vars: readonly ResolvedVar[];
}

type Loader = (version: string) => Catalogue | undefined;

/** The broker workloads whose image has a catalogue, with their `EMQX_*` variables. */
function checkedWorkloads(context: RuleContext, load: Loader = loadCatalogue): Checked[] {
  return emqxWorkloadsWithSettings(context.objects).flatMap(({ settings, ...workload }) => {
    const image = asString(workload.container.image) ?? '';
    const version = emqxVersionOfImage(image);
    if (version === undefined || /emqx-enterprise/.test(image)) return [];
    const catalogue = load(version);
    if (!catalogue) return [];
    const vars = [...settings.env.vars.values()].filter((v) => v.name.startsWith('EMQX_'));
    return [{ workload, settings, catalogue, version, vars }];
  });
}

function at(rule: Rule, c: Checked, variable: ResolvedVar, problem: string, fix: string): RuleFinding {
  return findingFor(rule, c.workload.object, problem, { path: c.settings.fieldPath(variable), locate: variable.name, fix });
}

/** Set by something other than the schema: the start scripts, the licence, the 4.x list (its own rule). */
function notSchema(c: Checked, name: string): boolean {
  return name in c.catalogue.startScript || name in c.catalogue.alsoValid || name in LEGACY_KEYS;
}

function suggestion(c: Checked, name: string): string {
  const close = closestEnvNames(c.catalogue, name);
  if (close.length === 1) return `did you mean ${close[0]}?`;
  if (close.length > 1) return `did you mean ${close.slice(0, -1).join(', ')} or ${close.at(-1)}?`;
  return `no EMQX ${c.version} setting is close to it: look the path up in catalogue/emqx-${c.version}.json (or the EMQX configuration reference) and correct the name, or remove it.`;
}

export const emqxConfigUnknown: Rule = {
  id: 'emqx/config-unknown',
  severity: 'error',
  description:
    'Every EMQX_* variable of a broker container is a path of the EMQX configuration (catalogue/emqx-<version>.json, chosen by the image version) or a variable the image start script reads (EMQX_NAME, EMQX_HOST ...): EMQX drops any other, silently under a misspelt root, and the setting keeps its default.',
  fix: 'rename the variable to the closest real path named in the message.',
  check(context) {
    const findings: RuleFinding[] = [];
    for (const c of checkedWorkloads(context)) {
      for (const v of c.vars) {
        if (notSchema(c, v.name)) continue;
        const segments = envSegments(v.name);
        if (!segments) {
          findings.push(at(this, c, v, `${v.name} is neither an EMQX ${c.version} setting (a path needs \`__\` between its parts: EMQX_<PART>__<PART>) nor a variable the image's start script reads: nothing reads it.`, suggestion(c, v.name)));
          continue;
        }
        const found = lookupEnv(c.catalogue, v.name)!;
        if (found.found || found.badKey) continue;
        const where =
          found.knownPrefix === ''
            ? `\`${segments[0]}\` is not a root of the EMQX ${c.version} configuration, so EMQX ignores ${v.name} without a word`
            : `\`${found.knownPrefix}\` has no \`${segments[found.knownPrefix.split('.').length]}\`, so EMQX logs one unknown_env_vars warning and ignores ${v.name}`;
        findings.push(at(this, c, v, `${v.name} is not an EMQX ${c.version} setting: ${where}; the setting keeps its default.`, suggestion(c, v.name)));
      }
    }
    return findings;
  },
};

export const emqxConfigMapKey: Rule = {
  id: 'emqx/config-map-key',
  severity: 'error',
  description:
    'Map entries in EMQX_* variables (listener, zone, handler names; array indexes) follow the schema\'s rules: a name of letters, digits, `_` and `-` that starts with a letter or digit, an index that is a number, and no near-miss of a name EMQX creates itself (`defualt` makes a second listener instead of changing `default`).',
  fix: 'use the name EMQX knows (`default` for the built-in listeners), or a name of letters and digits for a new entry.',
  check(context) {
    const findings: RuleFinding[] = [];
    for (const c of checkedWorkloads(context)) {
      for (const v of c.vars) {
        if (notSchema(c, v.name)) continue;
        const found = lookupEnv(c.catalogue, v.name);
        if (!found) continue;
        if (!found.found && found.badKey) {
          const mapPath = found.knownPrefix || '(root)';
          findings.push(at(this, c, v, `${v.name}: \`${found.badKey.key}\` is not a valid key of \`${mapPath}\`, which takes ${found.badKey.rule}; EMQX refuses the configuration.`, `name the entry with ${found.badKey.rule}.`));
          continue;
        }
        if (!found.found) continue;
        // Keys a letter or two away from one EMQX creates: a new entry where a change was meant.
        const parts = found.path.split('.');
        for (let i = 0; i < parts.length; i++) {
          if (!parts[i]!.startsWith('$')) continue;
          const mapPath = parts.slice(0, i).join('.');
          const known = c.catalogue.paths[mapPath]?.keys ?? [];
          const key = found.segments[i]!;
          const near = known.find((k) => k !== key && closeTo(k, key));
          if (near !== undefined) {
            const fixed = concretePath(found.path, found.segments.map((s, j) => (j === i ? near : s)));
            findings.push(
              at(this, c, v, `${v.name} creates a new \`${mapPath}\` entry named \`${key}\` beside EMQX's own \`${near}\`, whose settings it does not change.`, `if you meant \`${near}\`, use EMQX_${fixed.toUpperCase().replace(/\./g, '__')}.`),
            );
          }
        }
      }
    }
    return findings;
  },
};

function closeTo(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 2) return false;
  // Small edit distance, the same first letter: `defualt`, `defaut`, `deafult`.
  const d = editDistance(a, b);
  return d > 0 && d <= 2 && a[0] === b[0];
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

export const emqxConfigValue: Rule = {
  id: 'emqx/config-value',
  severity: 'error',
  description:
    'Every EMQX_* value is one its setting\'s type accepts (boolean, integer and its range, duration such as 30s, byte size such as 10MB, enum values, a HOCON object for a struct): EMQX refuses to boot otherwise. Values known only at run time ($(VAR), downward API, Secrets) are not judged.',
  fix: 'set a value of the type named in the message.',
  check(context) {
    const findings: RuleFinding[] = [];
    for (const c of checkedWorkloads(context)) {
      for (const v of c.vars) {
        if (notSchema(c, v.name) || isRuntimeValue(v.value) || v.origin.kind === 'secret') continue;
        const found = lookupEnv(c.catalogue, v.name);
        if (!found?.found || found.entry.open) continue;
        if (found.entry.refuse?.values.includes(v.value.trim())) continue; // emqx/config-edition says why
        if (!acceptsValue(found.entry.type, v.value)) {
          const shown = v.value.length > 60 ? `${v.value.slice(0, 57)}...` : v.value;
          findings.push(
            at(this, c, v, `${v.name}="${shown}": ${concretePath(found.path, found.segments)} takes ${describeType(found.entry.type)}; EMQX ${c.version} refuses to boot with this value.`, `set ${v.name} to ${describeType(found.entry.type)}${found.entry.default !== undefined ? ` (the default is ${found.entry.default})` : ''}.`),
          );
        }
      }
    }
    return findings;
  },
};

export const emqxConfigEdition: Rule = {
  id: 'emqx/config-edition',
  severity: 'error',
  description:
    'No EMQX_* value that the image\'s edition or version refuses though the setting exists, such as EMQX_NODE__ROLE (or EMQX_NODE__DB_ROLE) = replicant on open source 5.8 and later ("Node role \'replicant\' is only allowed in Enterprise edition since 5.8.0").',
  fix: 'remove the variable (every open-source 5.8 node is a core node), or run the Enterprise image with a licence.',
  check(context) {
    const findings: RuleFinding[] = [];
    for (const c of checkedWorkloads(context)) {
      for (const v of c.vars) {
        if (notSchema(c, v.name) || isRuntimeValue(v.value)) continue;
        const found = lookupEnv(c.catalogue, v.name);
        const refuse = found?.found ? found.entry.refuse : undefined;
        if (refuse && refuse.values.includes(v.value.trim())) {
          findings.push(at(this, c, v, `${v.name}=${v.value.trim()}: EMQX ${c.version} (open source) refuses it at boot: "${refuse.reason}".`, this.fix!));
        }
      }
    }
    return findings;
  },
};

export const emqxConfigCatalogue: Rule = {
  id: 'emqx/config-catalogue',
  severity: 'warning',
  description: 'The EMQX image version has a catalogue of settings (catalogue/emqx-<version>.json), so that its EMQX_* variables are checked; without one they are not.',
  fix: 'generate the catalogue of that version and commit it (docs/validate.md, "The EMQX configuration catalogue").',
  check({ objects }) {
    return emqxWorkloads(objects).flatMap((w) => {
      const image = asString(w.container.image) ?? '';
      const version = emqxVersionOfImage(image);
      if (version === undefined) return []; // emqx/image reports an unpinned image
      if (/emqx-enterprise/.test(image)) {
        return [findingFor(this, w.object, `${image} is the Enterprise edition: the committed catalogues are of open source, so its EMQX_* variables are not checked.`, { path: `spec.template.spec.containers[${w.containerName}].image`, locate: image })];
      }
      if (loadCatalogue(version)) return [];
      return [
        findingFor(this, w.object, `no catalogue of EMQX ${version} (catalogue/emqx-${version}.json): its EMQX_* variables are not checked.`, {
          path: `spec.template.spec.containers[${w.containerName}].image`,
          locate: version,
          fix: `run \`${catalogueCommand(version)}\` and commit catalogue/emqx-${version}.json.`,
        }),
      ];
    });
  },
};

export const EMQX_CONFIG_RULES: readonly Rule[] = [emqxConfigUnknown, emqxConfigMapKey, emqxConfigValue, emqxConfigEdition, emqxConfigCatalogue];
