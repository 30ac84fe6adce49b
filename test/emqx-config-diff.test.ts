// `npm run diff` and the EMQX configuration catalogue, through the diff engine: a variable set or
// renamed to an unknown path, and the defaults that change with a version bump.
import { describe, expect, it } from 'vitest';
import { emqxConfigWarnings } from '../scripts/lib/diff/emqx-config.ts';
import { diffOverlay } from '../scripts/lib/diff/engine.ts';
import { formatText } from '../scripts/lib/diff/format-text.ts';
import type { DiffReport } from '../scripts/lib/diff/types.ts';
import { type Catalogue, loadCatalogue } from '../scripts/lib/model/emqx-catalogue.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';
import { configMap as configMapIn, emqxStatefulSet } from './helpers/objects.ts';

const NS = 'emqx-test';

const configMap = (data: Record<string, string>): K8sObject => configMapIn('emqx-env', data, NS);

/** One broker reading the ConfigMap emqx-env. */
function statefulSet(image = 'emqx/emqx:5.8.9', env: Array<Record<string, unknown>> = []): K8sObject {
  return emqxStatefulSet({ namespace: NS, image, envFrom: [{ configMapRef: { name: 'emqx-env' } }], env });
}

const BASE_ENV = { EMQX_NAME: 'emqx', EMQX_CLUSTER__DISCOVERY_STRATEGY: 'singleton', EMQX_CLUSTER__AUTOCLEAN: '5m' };

function warnings(base: K8sObject[], head: K8sObject[]) {
  return diffOverlay({ name: 'o', dir: 'overlays/o', base, head }).warnings.filter((w) => w.rule.startsWith('emqx-config'));
}

describe('diff: EMQX settings against the catalogue', () => {
  it('warns of a variable a change sets to an unknown path, with the closest real one', () => {
    const found = warnings([configMap(BASE_ENV), statefulSet()], [configMap({ ...BASE_ENV, EMQX_CLUSTER__DISCOVERY_STRATEGYY: 'dns' }), statefulSet()]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ rule: 'emqx-config-unknown', object: `StatefulSet ${NS}/emqx` });
    expect(found[0]!.message).toContain('`EMQX_CLUSTER__DISCOVERY_STRATEGYY` (set by this change) is not an EMQX 5.8.9 setting');
    expect(found[0]!.remedy).toContain('Did you mean `EMQX_CLUSTER__DISCOVERY_STRATEGY`?');
  });

  it('says which variable an unknown one was renamed from', () => {
    const { EMQX_CLUSTER__AUTOCLEAN: _, ...rest } = BASE_ENV;
    const found = warnings([configMap(BASE_ENV), statefulSet()], [configMap(rest), statefulSet('emqx/emqx:5.8.9', [{ name: 'EMQX_CLUSTR__AUTOCLEAN', value: '5m' }])]);
    expect(found.map((w) => w.message)).toEqual([expect.stringContaining('`EMQX_CLUSTR__AUTOCLEAN` (renamed from `EMQX_CLUSTER__AUTOCLEAN`) is not an EMQX 5.8.9 setting')]);
  });

  it('stays quiet on known paths, map keys, start-script variables, and on unknown ones the change does not touch', () => {
    const head = { ...BASE_ENV, EMQX_LISTENERS__SSL__EDGE__BIND: '8884', EMQX_HOST: 'emqx-0.emqx-headless', EMQX_ZONES__EDGE__MQTT__MAX_PACKET_SIZE: '10MB' };
    expect(warnings([configMap(BASE_ENV), statefulSet()], [configMap(head), statefulSet()])).toEqual([]);
    const both = { ...BASE_ENV, EMQX_UNRELATED__TYPO: 'x' };
    expect(warnings([configMap(both), statefulSet()], [configMap({ ...both, EMQX_CLUSTER__AUTOCLEAN: '10m' }), statefulSet()])).toEqual([]);
  });

  it('says the defaults could not be compared when only one version has a catalogue, naming the command', () => {
    const found = warnings([configMap(BASE_ENV), statefulSet('emqx/emqx:5.8.9')], [configMap(BASE_ENV), statefulSet('emqx/emqx:5.9.1')]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ rule: 'emqx-config-default' });
    expect(found[0]!.message).toBe('The image moves from EMQX 5.8.9 to 5.9.1, and there is no catalogue of EMQX 5.9.1: the settings whose defaults change could not be compared.');
    expect(found[0]!.remedy).toContain('npm run catalogue -- --version 5.9.1');
    const report: DiffReport = { base: { ref: 'main', commit: 'abc' }, head: { ref: 'HEAD' }, overlays: [diffOverlay({ name: 'o', dir: 'overlays/o', base: [configMap(BASE_ENV), statefulSet('emqx/emqx:5.8.9')], head: [configMap(BASE_ENV), statefulSet('emqx/emqx:5.9.1')] })] };
    expect(formatText(report)).toContain('[emqx-config-default]');
  });

  it('names the settings whose default changes across a version bump, except those the render sets, and checks kept variables against the new version', () => {
    const now = loadCatalogue('5.8.9')!;
    // A made-up next version: one default changed, one path gone.
    const { ['cluster.autoclean']: _autoclean, ...kept } = now.paths;
    const next: Catalogue = {
      ...now,
      emqx: '5.8.10',
      paths: { ...kept, 'mqtt.max_packet_size': { ...now.paths['mqtt.max_packet_size']!, default: '2MB' }, 'node.global_gc_interval': { ...now.paths['node.global_gc_interval']!, default: '15m' } },
    };
    const load = (v: string) => (v === '5.8.9' ? now : v === '5.8.10' ? next : undefined);
    const base = [configMap({ ...BASE_ENV, EMQX_NODE__GLOBAL_GC_INTERVAL: 'disabled' }), statefulSet('emqx/emqx:5.8.9')];
    const head = [configMap({ ...BASE_ENV, EMQX_NODE__GLOBAL_GC_INTERVAL: 'disabled' }), statefulSet('emqx/emqx:5.8.10')];
    const found = emqxConfigWarnings('o', base, head, load);
    expect(found.map((w) => w.rule).sort()).toEqual(['emqx-config-default', 'emqx-config-unknown']);
    const defaults = found.find((w) => w.rule === 'emqx-config-default')!;
    expect(defaults.message).toBe('The image moves from EMQX 5.8.9 to 5.8.10, which changes the defaults of settings this render does not set: `mqtt.max_packet_size` 1MB -> 2MB.');
    const gone = found.find((w) => w.rule === 'emqx-config-unknown')!;
    expect(gone.message).toContain('`EMQX_CLUSTER__AUTOCLEAN` (kept from EMQX 5.8.9) is not an EMQX 5.8.10 setting');
  });
});
