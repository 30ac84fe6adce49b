// The catalogue generator on a small fixture made here (a dump and a git repository with two
// tags of schema modules), the command around it, and what the committed catalogue promises.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { $ } from 'zx/core';
import { describe, expect, it } from 'vitest';
import { generateCatalogue, pickDump } from '../scripts/lib/catalogue/generate.ts';
import { type ErlModule, parseSchemaModule, resolveRemoteFields } from '../scripts/lib/catalogue/erlang.ts';
import { parseDumpType, parseErlType } from '../scripts/lib/catalogue/types.ts';
import { type Catalogue, loadCatalogue, lookupEnv } from '../scripts/lib/model/emqx-catalogue.ts';
import { commandLine } from './helpers/run.ts';
import { useTempDirs } from './helpers/tmp.ts';
import { asCommandError } from './helpers/user-error.ts';

const tempDir = useTempDirs();
const COMMAND = commandLine('catalogue.ts');

/** The dump of "5.8.1": what the EMQX build writes (nested fields and refs, types as text). */
const DUMP = {
  fields: [
    {
      text: 'cluster',
      type: 'Struct(cluster)',
      refs: [
        {
          hash: 'T-cluster-S-cluster',
          fields: [
            { text: 'discovery_strategy', type: 'Enum(manual,static,singleton,dns,etcd,k8s)', default: 'manual' },
            { text: 'autoclean', type: 'Duration', default: '"24h"' },
            { text: 'old_knob', type: 'Boolean', default: 'false' },
            { text: 'k8s', type: 'Struct(cluster_k8s)', refs: [{ hash: 'T-cluster-S-cluster-k8s-S-cluster_k8s', fields: [{ text: 'address_type', type: 'Enum(ip,dns,hostname)', default: 'ip' }] }] },
          ],
        },
      ],
    },
    {
      text: 'node',
      type: 'Struct(node)',
      refs: [
        {
          hash: 'T-node-S-node',
          fields: [
            { text: 'cookie', type: 'String' },
            { text: 'role', type: 'Enum(core)', default: 'core', aliases: ['db_role'] },
          ],
        },
      ],
    },
    {
      text: 'listeners',
      type: 'Struct(listeners)',
      refs: [
        {
          hash: 'T-listeners-S-listeners',
          fields: [
            {
              text: 'tcp',
              type: 'Map($name->OneOf(Struct(mqtt_tcp_listener),String("marked_for_deletion")))',
              refs: [{ hash: 'T-listeners-S-listeners-tcp-S-mqtt_tcp_listener', fields: [{ text: 'max_connections', type: 'OneOf(String("infinity"),Integer(1..+inf))', default: '"infinity"' }] }],
            },
          ],
        },
      ],
    },
    { text: 'mqtt', type: 'Struct(mqtt)', refs: [{ hash: 'T-mqtt-S-mqtt', fields: [{ text: 'max_packet_size', type: 'Bytesize', default: '"1MB"' }] }] },
    { text: 'gone_root', type: 'Struct(gone_root)', refs: [{ hash: 'T-gone_root-S-gone_root', fields: [{ text: 'x', type: 'Integer' }] }] },
  ],
};

const confSchema = (version: '5.8.1' | '5.8.9') => `-module(emqx_conf_schema).
-define(MERGED_CONFIGS, [
    emqx_dashboard_schema${version === '5.8.1' ? ',\n    {emqx_gone_schema, ce}' : ',\n    {emqx_gone_schema, ee}'}
]).

roots() ->
    [
        {node, sc(?R_REF("node"), #{translate_to => ["emqx"]})},
        {cluster, sc(?R_REF("cluster"), #{})}
    ].

fields("cluster") ->
    [
        {"discovery_strategy", sc(hoconsc:enum([manual, static, singleton, dns, etcd, k8s]), #{default => manual})},
        {"autoclean", sc(emqx_schema:duration(), #{default => <<"${version === '5.8.1' ? '24h' : '12h'}">>})},${version === '5.8.1' ? '\n        {"old_knob", sc(boolean(), #{default => false})},' : ''}
        {"k8s", sc(?R_REF(cluster_k8s), #{})},
        {"quic_lb_mode", sc(hoconsc:union([integer(), string()]), #{default => 0, importance => ?IMPORTANCE_HIDDEN})}
    ];
fields(cluster_k8s) ->
    [
        {"address_type", sc(hoconsc:enum([ip, dns, hostname]), #{default => ip})}
    ];
fields("node") ->
    [
        %% a comment with {"not_a_field", sc(boolean(), #{})}
        {"cookie", sc(string(), #{required => true, sensitive => true})},
        {"process_limit",
            sc(
                range(1024, 134217727),
                #{
                    deprecated => true,
                    importance => ?IMPORTANCE_HIDDEN
                }
            )},
        {"role", sc(hoconsc:enum(node_role_symbols()), #{default => core, aliases => [db_role]})}
    ] ++ node_extra();
fields(_) ->
    [].

node_extra() ->
    [
        {"dist_net_ticktime", sc(emqx_schema:duration(), #{default => <<"2m">>, importance => ?IMPORTANCE_HIDDEN})}
    ].
`;

const EMQX_SCHEMA = `-module(emqx_schema).
roots(high) ->
    [
        {listeners, sc(ref("listeners"), #{importance => ?IMPORTANCE_HIGH})},
        {mqtt, sc(ref("mqtt"), #{})},
        {zones, zones_field_schema()}
    ];
roots(low) ->
    [
        {broker, sc(ref("broker"), #{importance => ?IMPORTANCE_HIDDEN})}
    ].

fields("mqtt") ->
    [
        {"max_packet_size", sc(bytesize(), #{default => <<"1MB">>})}
    ];
fields("broker") ->
    [
        {"enable_session_registry", sc(boolean(), #{default => true})}
    ].
`;

const ZONE_SCHEMA = `-module(emqx_zone_schema).
roots() ->
    [
        mqtt
    ].
`;

const GONE_SCHEMA = `-module(emqx_gone_schema).
roots() -> [{"gone_root", hoconsc:mk(hoconsc:ref(?MODULE, "gone_root"), #{})}].
fields("gone_root") -> [{"x", sc(integer(), #{})}].
`;

async function fixtureRepo(dir: string): Promise<string> {
  const repo = path.join(dir, 'emqx');
  const write = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
    writeFileSync(path.join(repo, rel), text);
  };
  const git = $({ cwd: repo, quiet: true });
  mkdirSync(repo, { recursive: true });
  await git`git init -q`;
  for (const version of ['5.8.1', '5.8.9'] as const) {
    write('apps/emqx_conf/src/emqx_conf_schema.erl', confSchema(version));
    write('apps/emqx/src/emqx_schema.erl', EMQX_SCHEMA);
    write('apps/emqx/src/emqx_zone_schema.erl', ZONE_SCHEMA);
    write('apps/emqx_gone/src/emqx_gone_schema.erl', GONE_SCHEMA);
    await git`git add -A`;
    await git`git -c user.name=t -c user.email=t@example.com commit -q -m ${version}`;
    await git`git tag ${`v${version}`}`;
  }
  return repo;
}

async function fixture(): Promise<{ dir: string; dump: string; repo: string; supplement: string }> {
  const dir = await tempDir();
  const dump = path.join(dir, 'hocon-ce-v5.8.1-en.json');
  writeFileSync(dump, JSON.stringify(DUMP));
  const supplement = path.join(dir, 'supplement.yaml');
  writeFileSync(
    supplement,
    [
      '---',
      'entries:',
      '  - path: node.role',
      "    refuse: {values: [replicant], reason: \"Node role 'replicant' is only allowed in Enterprise edition since 5.8.0\"}",
      '    checked: apps/emqx_conf/src/emqx_conf_schema.erl:30',
      'startScript:',
      '  - {name: EMQX_NAME, what: the node name prefix, checked: deploy/docker/docker-entrypoint.sh:17}',
      'alsoValid: []',
      '',
    ].join('\n'),
  );
  return { dir, dump, repo: await fixtureRepo(dir), supplement };
}

describe('catalogue generator', () => {
  it('builds the entries from the dump, the hidden fields of the sources, the changes since the dump and the supplement', async () => {
    const f = await fixture();
    const out = path.join(f.dir, 'out.json');
    const { catalogue } = await generateCatalogue({ docs: f.dump, emqx: f.repo, version: '5.8.9', out, supplement: f.supplement, now: new Date('2026-01-02T00:00:00Z') });
    const p = catalogue.paths;
    // From the dump, quotes of string defaults removed.
    expect(p['cluster.discovery_strategy']).toEqual({ type: { kind: 'enum', values: ['manual', 'static', 'singleton', 'dns', 'etcd', 'k8s'] }, default: 'manual', from: 'dump' });
    expect(p['cluster.k8s.address_type']).toMatchObject({ type: { kind: 'enum', values: ['ip', 'dns', 'hostname'] }, default: 'ip' });
    expect(p['listeners.tcp']).toMatchObject({ type: { kind: 'map', key: '$name' } });
    expect(p['listeners.tcp.$name.max_connections']).toMatchObject({ type: { kind: 'union', of: [{ kind: 'string', literal: 'infinity' }, { kind: 'integer', min: 1 }] }, default: 'infinity' });
    expect(p['node.db_role']).toMatchObject({ aliasOf: 'node.role' });
    // Hidden, from the Erlang sources (also through a spliced local function), comments ignored.
    expect(p['node.process_limit']).toEqual({ type: { kind: 'integer', min: 1024, max: 134217727 }, hidden: true, deprecated: true, from: 'erl' });
    expect(p['node.dist_net_ticktime']).toMatchObject({ type: { kind: 'duration' }, default: '2m', hidden: true });
    expect(p['cluster.quic_lb_mode']).toMatchObject({ hidden: true, type: { kind: 'union' } });
    expect(p['node.not_a_field']).toBeUndefined();
    expect(p['broker.enable_session_registry']).toMatchObject({ type: { kind: 'boolean' }, default: 'true', from: 'erl' });
    // 5.8.1 -> 5.8.9: a default changed, a field and a module's root removed.
    expect(p['cluster.autoclean']!.default).toBe('12h');
    expect(p['cluster.old_knob']).toBeUndefined();
    expect(p['gone_root']).toBeUndefined();
    expect(catalogue.generated.changesSinceDump).toMatchObject({ from: '5.8.1', to: '5.8.9', removed: ['cluster.old_knob', 'gone_root'], defaults: ['cluster.autoclean: 24h -> 12h'] });
    // Zones mirror the zone roots, without defaults.
    expect(p['zones.$name.mqtt.max_packet_size']).toEqual({ type: { kind: 'bytesize' }, hidden: true, from: 'zone' });
    // The supplement.
    expect(p['node.role']!.refuse).toEqual({ values: ['replicant'], reason: "Node role 'replicant' is only allowed in Enterprise edition since 5.8.0" });
    expect(catalogue.startScript.EMQX_NAME).toContain('docker-entrypoint.sh:17');
    // The header names the sources, the command and the date; one line per path.
    expect(catalogue.generated).toMatchObject({ date: '2026-01-02', docs: { file: 'hocon-ce-v5.8.1-en.json', dumpVersion: '5.8.1' }, emqx: { tag: 'v5.8.9', dumpTag: 'v5.8.1' } });
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/\n {4}"cluster\.autoclean": \{"type":\{"kind":"duration"\},"default":"12h","from":"dump"\},\n/);
    expect(JSON.parse(text)).toEqual(catalogue);
  });

  it('runs as `npm run catalogue` on local files, and refuses missing inputs with exit code 2', async () => {
    const f = await fixture();
    const out = path.join(f.dir, 'emqx-5.8.9.json');
    const run = $({ quiet: true, nothrow: true });
    const ok = await run`${COMMAND} --docs ${f.dump} --emqx ${f.repo} --version 5.8.9 --out ${out}`;
    expect(ok.stderr).toBe('');
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(/emqx-5\.8\.9\.json: \d+ paths \(dump hocon-ce-v5\.8\.1-en\.json, EMQX v5\.8\.9\)/);
    expect((JSON.parse(readFileSync(out, 'utf8')) as Catalogue).paths['node.cookie']).toBeDefined();
    const usage = await run`${COMMAND} --emqx ${f.repo}`;
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toMatch(/--docs and --emqx are required/);
    // As the README runs it: bare clones of emqx-docs (the dump under hocon/) and of emqx.
    const docs = path.join(f.dir, 'emqx-docs');
    mkdirSync(path.join(docs, 'hocon'), { recursive: true });
    writeFileSync(path.join(docs, 'hocon', 'hocon-ce-v5.8.1-en.json'), JSON.stringify(DUMP));
    const git = $({ cwd: docs, quiet: true });
    await git`git init -q`;
    await git`git add -A`;
    await git`git -c user.name=t -c user.email=t@example.com commit -q -m dumps`;
    await run`git clone -q --bare ${docs} ${`${docs}.git`}`;
    await run`git clone -q --bare ${f.repo} ${`${f.repo}.git`}`;
    const bareOut = path.join(f.dir, 'bare', 'emqx-5.8.9.json');
    mkdirSync(path.dirname(bareOut), { recursive: true });
    // The runs above are the command's exit 0 and 2; with bare clones and with a version that has
    // no tag, the test calls generateCatalogue as scripts/catalogue.ts does.
    const bare = await asCommandError(() => generateCatalogue({ version: '5.8.9', docs: `${docs}.git`, emqx: `${f.repo}.git`, out: bareOut, command: 'npm run catalogue' }));
    expect(bare.stderr).toBe('');
    expect(bare.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(bareOut, 'utf8')).paths).toEqual((JSON.parse(readFileSync(out, 'utf8')) as Catalogue).paths);
    const noTag = await asCommandError(() => generateCatalogue({ docs: f.dump, emqx: f.repo, version: '5.8.8', out, command: 'npm run catalogue' }));
    expect(noTag.exitCode).toBe(2);
    expect(noTag.stderr).toMatch(/v5\.8\.8: no such commit/);
  });

  it('picks the newest dump of the minor release that is not newer than the version', () => {
    const files = ['hocon/hocon-ce-v5.8.1-en.json', 'hocon/hocon-ce-v5.8.7-en.json', 'hocon/hocon-ce-v5.8.7-zh.json', 'hocon/hocon-ee-v5.8.10-en.json', 'hocon/hocon-ce-v5.9.0-en.json'];
    expect(pickDump(files, '5.8.9')).toEqual({ file: 'hocon/hocon-ce-v5.8.7-en.json', version: '5.8.7' });
    expect(pickDump(files, '5.8.5')).toEqual({ file: 'hocon/hocon-ce-v5.8.1-en.json', version: '5.8.1' });
    expect(pickDump(files, '5.7.0')).toBeUndefined();
  });

  it('reads the type notations of both sources', () => {
    expect(parseDumpType('OneOf(String("infinity"),Integer(1..+inf))')).toEqual({ kind: 'union', of: [{ kind: 'value', type: { kind: 'string', literal: 'infinity' } }, { kind: 'value', type: { kind: 'integer', min: 1 } }] });
    expect(parseDumpType('Map($name->Struct(x))')).toEqual({ kind: 'map', key: '$name', of: { kind: 'struct', name: 'x' } });
    expect(parseErlType('range(1, 65535)')).toEqual({ kind: 'value', type: { kind: 'integer', min: 1, max: 65535 } });
    expect(parseErlType('hoconsc:enum([a, aaaa, srv])')).toEqual({ kind: 'value', type: { kind: 'enum', values: ['a', 'aaaa', 'srv'] } });
    expect(parseErlType('hoconsc:map(name, ref("zone"))')).toEqual({ kind: 'map', key: '$name', of: { kind: 'struct', name: 'zone' } });
    expect(parseErlType('some_module:opaque()')).toEqual({ kind: 'value', type: { kind: 'any' } });
    const m = parseSchemaModule('x.erl', 'fields("a") ->\n    [{"b", sc(boolean(), #{desc => "has {\\"c\\", sc(x)} in it"})}].\n');
    expect(m.structs.get('a')!.fields.map((f) => [f.name, f.line])).toEqual([['b', 2]]);
  });
});

describe('the Erlang schema reader', () => {
  it('follows the ways EMQX builds field lists: splices, one-field functions in a list, remote functions, and knows when it cannot name them', () => {
    const a = parseSchemaModule(
      'apps/a/src/a_schema.erl',
      [
        '-module(a_schema).',
        'fields("http") ->',
        '    [',
        '        enable(true),',
        '        {"bind", sc(integer(), #{default => 18083})}',
        '        | common()',
        '    ];',
        'fields("gw") ->',
        '    b_schema:gateway_common_options() ++ [{"x", sc(boolean(), #{})}];',
        'fields("rates") ->',
        '    [{Name, sc(string(), #{})} || Name <- names()].',
        '',
        '-spec enable(boolean()) -> tuple().',
        'enable(Bool) ->',
        '    {"enable", ?HOCON(boolean(), #{default => Bool, importance => ?IMPORTANCE_HIDDEN})}.',
        '',
        'common() ->',
        '    [{"backlog", sc(pos_integer(), #{default => 1024})}].',
        '',
      ].join('\n'),
    );
    const b = parseSchemaModule('apps/b/src/b_schema.erl', '-module(b_schema).\ngateway_common_options() ->\n    [{"enable", sc(boolean(), #{default => true})}].\n');
    const modules = new Map<string, ErlModule>([['a_schema', a], ['b_schema', b]]);
    resolveRemoteFields(modules);
    const names = (s: string) => modules.get('a_schema')!.structs.get(s)!.fields.map((f) => `${f.name}${f.hidden ? ' (hidden)' : ''}:${f.line}`);
    expect(names('http')).toEqual(['bind:5', 'enable (hidden):15', 'backlog:18']);
    expect(names('gw')).toEqual(['x:9', 'enable:3']);
    expect(a.structs.get('rates')).toMatchObject({ fields: [], partial: true });
    expect(a.structs.get('http')!.partial).toBe(false);
  });
});

describe('the committed catalogue of EMQX 5.8.9', () => {
  const catalogue = loadCatalogue('5.8.9')!;

  it('records where it comes from and how to regenerate it', () => {
    expect(catalogue.emqx).toBe('5.8.9');
    expect(catalogue.edition).toBe('ce');
    expect(catalogue.generated).toMatchObject({ emqx: { repository: 'emqx/emqx', tag: 'v5.8.9' }, docs: { repository: 'emqx/emqx-docs' } });
    expect(String(catalogue.generated.command)).toMatch(/^npm run catalogue -- /);
    expect((catalogue.generated.checked as string[]).length).toBeGreaterThan(3);
  });

  it('holds the paths this repository and its users rely on, with their types', () => {
    const p = catalogue.paths;
    expect(p['cluster.discovery_strategy']).toMatchObject({ type: { kind: 'enum', values: ['manual', 'static', 'singleton', 'dns', 'etcd', 'k8s'] }, default: 'manual' });
    expect(p['cluster.k8s.address_type']).toMatchObject({ type: { kind: 'enum', values: ['ip', 'dns', 'hostname'] }, default: 'ip' });
    expect(p['cluster.dns.record_type']).toMatchObject({ type: { kind: 'enum', values: ['a', 'aaaa', 'srv'] } });
    expect(p['cluster.autoclean']).toMatchObject({ type: { kind: 'duration' }, default: '24h' });
    expect(p['listeners.tcp.$name.max_connections']!.type).toEqual({ kind: 'union', of: [{ kind: 'string', literal: 'infinity' }, { kind: 'integer', min: 1 }] });
    expect(p['node.cookie']).toMatchObject({ type: { kind: 'string' } });
    expect(p['node.process_limit']).toMatchObject({ hidden: true, type: { kind: 'integer', min: 1024 } });
    expect(p['dashboard.default_password']).toMatchObject({ type: { kind: 'string' }, default: 'public' });
    expect(p['mqtt.max_packet_size']).toMatchObject({ type: { kind: 'bytesize' }, default: '1MB' });
    expect(p['node.role']!.refuse!.reason).toBe("Node role 'replicant' is only allowed in Enterprise edition since 5.8.0");
    // 5.8.8 disabled the global GC by default (changes/v5.8.8.en.md, #15536): the gap since the dump is closed.
    expect(p['node.global_gc_interval']!.default).toBe('disabled');
    // Removed in 5.8.0 (changes/v5.8.0.en.md).
    expect(p['cluster.core_nodes']).toBeUndefined();
    for (const name of ['EMQX_NAME', 'EMQX_HOST', 'EMQX_NODE_NAME', 'EMQX_LOG__TO']) expect(catalogue.startScript, name).toHaveProperty(name);
    expect(catalogue.alsoValid).toHaveProperty('EMQX_LICENSE__KEY');
  });

  it('finds every variable the repository sets, through map keys and aliases', () => {
    for (const name of ['EMQX_CLUSTER__K8S__SERVICE_NAME', 'EMQX_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__CERTFILE', 'EMQX_PROMETHEUS__ENABLE_BASIC_AUTH', 'EMQX_API_KEY__BOOTSTRAP_FILE', 'EMQX_NODE__DB_ROLE', 'EMQX_ZONES__EDGE__MQTT__MAX_PACKET_SIZE']) {
      expect(lookupEnv(catalogue, name), name).toMatchObject({ found: true });
    }
    expect(lookupEnv(catalogue, 'EMQX_NODE__DB_ROLE')).toMatchObject({ path: 'node.role', via: 'node.db_role' });
    expect(lookupEnv(catalogue, 'EMQX_LISTENERS__TCP__MINE__BIND')).toMatchObject({ found: true, path: 'listeners.tcp.$name.bind' });
  });
});
