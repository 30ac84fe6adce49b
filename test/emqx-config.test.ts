// The catalogue lookups (model) and the emqx/config-* rules beyond their fixtures: what each
// message says, no false alarm on values known only at run time, one finding per mistake, and the
// 4.x list's replacements checked against the catalogue.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { acceptsValue, closestEnvNames, describeType, emqxVersionOfImage, isRuntimeValue, loadCatalogue, lookupEnv } from '../scripts/lib/model/emqx-catalogue.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';
import { RULES } from '../scripts/lib/validate/rules/index.ts';
import { LEGACY_KEYS } from '../scripts/lib/validate/rules/emqx-legacy-config.ts';

const catalogue = loadCatalogue('5.8.9')!;
const RENDER = path.join(import.meta.dirname, 'fixtures', 'validate', 'renders', 'hostname.yaml');

/** The hostname render with extra variables on the broker container (env, after the existing ones) and in its ConfigMap. */
function render(env: Array<Record<string, unknown>>, data: Record<string, string> = {}, image?: string): K8sObject[] {
  const objects = parseAllDocuments(readFileSync(RENDER, 'utf8')).map((d) => d.toJS() as K8sObject & { data?: Record<string, string> });
  for (const o of objects) {
    if (o.kind === 'ConfigMap') o.data = { ...o.data, ...data };
    if (o.kind === 'StatefulSet') {
      const container = (o.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template.spec.containers[0]!;
      container.env = [...(container.env as unknown[]), ...env];
      if (image) container.image = image;
    }
  }
  return objects;
}

function findings(objects: K8sObject[]) {
  return RULES.filter((r) => r.id.startsWith('emqx/config-') || r.id === 'emqx/legacy-config').flatMap((r) => r.check({ overlay: 'o', objects }));
}

describe('the catalogue model', () => {
  it('reads the version off the image', () => {
    expect(emqxVersionOfImage('emqx/emqx:5.8.9')).toBe('5.8.9');
    expect(emqxVersionOfImage('registry.example.com:5000/emqx/emqx:v5.8.9@sha256:abc')).toBe('5.8.9');
    expect(emqxVersionOfImage('emqx/emqx:latest')).toBeUndefined();
    expect(emqxVersionOfImage('emqx/emqx')).toBeUndefined();
  });

  it('judges values by type: durations, byte sizes, booleans, ranges, enums, unions', () => {
    expect(acceptsValue({ kind: 'duration' }, '30s')).toBe(true);
    expect(acceptsValue({ kind: 'duration' }, '1h30m')).toBe(true);
    expect(acceptsValue({ kind: 'duration' }, '5 minutes')).toBe(false);
    expect(acceptsValue({ kind: 'bytesize' }, '10MB')).toBe(true);
    expect(acceptsValue({ kind: 'bytesize' }, '"512KB"')).toBe(true);
    expect(acceptsValue({ kind: 'bytesize' }, 'ten')).toBe(false);
    expect(acceptsValue({ kind: 'boolean' }, 'true')).toBe(true);
    expect(acceptsValue({ kind: 'boolean' }, 'yes')).toBe(false);
    expect(acceptsValue({ kind: 'integer', min: 1, max: 65535 }, '0')).toBe(false);
    expect(acceptsValue({ kind: 'integer', min: 1, max: 65535 }, '8883')).toBe(true);
    const maxConnections = catalogue.paths['listeners.tcp.$name.max_connections']!.type;
    expect(acceptsValue(maxConnections, 'infinity')).toBe(true);
    expect(acceptsValue(maxConnections, 'lots')).toBe(false);
    expect(describeType(maxConnections)).toBe('"infinity", or an integer in 1..+inf');
    expect(isRuntimeValue('$(POD_IP):1883')).toBe(true);
    expect(isRuntimeValue('⟨status.podIP⟩')).toBe(true);
    expect(isRuntimeValue('1883')).toBe(false);
  });

  it('names the closest real variables, with the caller\'s map keys', () => {
    expect(closestEnvNames(catalogue, 'EMQX_CLUSTER__DISCOVERY_STRATEGYY')[0]).toBe('EMQX_CLUSTER__DISCOVERY_STRATEGY');
    expect(closestEnvNames(catalogue, 'EMQX_CLUSTR__AUTOCLEAN')[0]).toBe('EMQX_CLUSTER__AUTOCLEAN');
    expect(closestEnvNames(catalogue, 'EMQX_LISTENERS__SSL__EDGE__MAX_CONECTIONS')[0]).toBe('EMQX_LISTENERS__SSL__EDGE__MAX_CONNECTIONS');
    expect(closestEnvNames(catalogue, 'EMQX_NAMEE')).toEqual(['EMQX_NAME']);
  });

  it('knows each replacement the 4.x list names, and none of its keys', () => {
    for (const [old, replacement] of Object.entries(LEGACY_KEYS)) {
      expect(lookupEnv(catalogue, old)?.found ?? false, old).toBe(false);
      const name = /^EMQX_[A-Z0-9_]+/.exec(replacement)?.[0];
      if (name && !name.endsWith('__')) expect(lookupEnv(catalogue, name)?.found || name in catalogue.startScript, `${old} -> ${name}`).toBe(true);
    }
    // Dropped from the hand list: the catalogue's own "did you mean" names their replacements.
    expect(closestEnvNames(catalogue, 'EMQX_DASHBOARD__DEFAULT_USER__PASSWORD')[0]).toBe('EMQX_DASHBOARD__DEFAULT_PASSWORD');
    expect(closestEnvNames(catalogue, 'EMQX_DASHBOARD__DEFAULT_USER__LOGIN')[0]).toBe('EMQX_DASHBOARD__DEFAULT_USERNAME');
    expect(lookupEnv(catalogue, 'EMQX_NODE__MAX_PORTS')).toMatchObject({ found: true });
    expect(Object.keys(LEGACY_KEYS).length).toBeLessThan(17);
  });
});

describe('emqx/config-* rules', () => {
  it('report an unknown name with where it is set and the closest real one', () => {
    const [f, ...rest] = findings(render([{ name: 'EMQX_CLUSTR__AUTOCLEAN', value: '5m' }]));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ rule: 'emqx/config-unknown', severity: 'error', path: 'spec.template.spec.containers[emqx].env[EMQX_CLUSTR__AUTOCLEAN]', locate: 'EMQX_CLUSTR__AUTOCLEAN' });
    expect(f!.message).toContain('`clustr` is not a root of the EMQX 5.8.9 configuration, so EMQX ignores EMQX_CLUSTR__AUTOCLEAN without a word');
    expect(f!.message).toMatch(/Fix: did you mean EMQX_CLUSTER__AUTOCLEAN\b/);
  });

  it('report a value the type refuses with the type, and its default', () => {
    const [f, ...rest] = findings(render([], { EMQX_LISTENERS__TCP__DEFAULT__MAX_CONNECTIONS: 'lots' }));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ rule: 'emqx/config-value', path: 'spec.template.spec.containers[emqx].envFrom[0]', locate: 'EMQX_LISTENERS__TCP__DEFAULT__MAX_CONNECTIONS' });
    expect(f!.message).toContain('listeners.tcp.default.max_connections takes "infinity", or an integer in 1..+inf');
    expect(f!.message).toContain('(the default is infinity)');
  });

  it('report replicant once, with EMQX\'s reason, under either name', () => {
    for (const name of ['EMQX_NODE__ROLE', 'EMQX_NODE__DB_ROLE']) {
      const all = findings(render([{ name, value: 'replicant' }]));
      expect(all.map((f) => f.rule), name).toEqual(['emqx/config-edition']);
      expect(all[0]!.message).toContain(`${name}=replicant: EMQX 5.8.9 (open source) refuses it at boot: "Node role 'replicant' is only allowed in Enterprise edition since 5.8.0"`);
    }
  });

  it('leave the 4.x keys to emqx/legacy-config, which names the replacement', () => {
    const all = findings(render([{ name: 'EMQX_CLUSTER__DISCOVERY', value: 'k8s' }]));
    expect(all.map((f) => f.rule)).toEqual(['emqx/legacy-config']);
    expect(all[0]!.message).toContain('use EMQX_CLUSTER__DISCOVERY_STRATEGY');
  });

  it('raise no false alarm on valid but unusual settings and run-time values', () => {
    const env = [
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'EMQX_LISTENERS__TCP__DEFAULT__BIND', value: '$(POD_IP):1883' },
      { name: 'EMQX_RPC__PORT_DISCOVERY', value: 'manual' },
      { name: 'EMQX_LICENSE__KEY', valueFrom: { secretKeyRef: { name: 'emqx-secrets', key: 'licence' } } },
      { name: 'EMQX_LOG__TO', value: 'console' },
    ];
    const data = {
      EMQX_LISTENERS__SSL__MYLISTENER__BIND: '8884',
      EMQX_LISTENERS__SSL__MYLISTENER__SSL_OPTIONS__VERIFY: 'verify_peer',
      EMQX_ZONES__EDGE__MQTT__MAX_PACKET_SIZE: '10MB',
      EMQX_ZONES__EDGE__MQTT__IDLE_TIMEOUT: '30s',
      EMQX_LISTENERS__TCP__EDGE__ZONE: 'edge',
      EMQX_CLUSTER__AUTOCLEAN: '30s',
      EMQX_MQTT__RETAIN_AVAILABLE: 'false',
      EMQX_NODE__PROCESS_LIMIT: '2097152',
      EMQX_NODE__MAX_PORTS: '2097152',
      EMQX_AUTHORIZATION__NO_MATCH: 'deny',
      EMQX_SYSMON__OS__CPU_HIGH_WATERMARK: '80%',
      EMQX_CLUSTER__STATIC__SEEDS: '["emqx@a.example", "emqx@b.example"]',
      EMQX_DASHBOARD__LISTENERS__HTTP__BIND: '18083',
      EMQX_LOG__CONSOLE__FORMATTER: 'json',
      EMQX_PROMETHEUS__ENABLE_BASIC_AUTH: 'true',
    };
    expect(findings(render(env, data)).map((f) => f.message)).toEqual([]);
  });

  it('warn, naming the command, when the image version has no catalogue, and check nothing else then', () => {
    const all = findings(render([{ name: 'EMQX_CLUSTR__AUTOCLEAN', value: '5m' }], {}, 'emqx/emqx:5.8.8'));
    expect(all.map((f) => [f.rule, f.severity])).toEqual([['emqx/config-catalogue', 'warning']]);
    expect(all[0]!.message).toContain('Fix: run `npm run catalogue -- --version 5.8.8');
  });
});
