// `npm run catalogue`: reads local checkouts only (a CI machine cannot reach GitHub), builds the
// catalogue and writes catalogue/emqx-<version>.json.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { mapConcurrent } from '../util/concurrency.ts';
import { EXIT_USAGE, UserError } from '../cli/errors.ts';
import { filesAt, resolveCommit, showFile } from '../tools/git.ts';
import { type Catalogue, CATALOGUE_DIR, catalogueFile } from '../model/emqx-catalogue.ts';
import { displayPath } from '../util/paths.ts';
import { buildCatalogue, type DumpField, serializeCatalogue, type Supplement } from './build.ts';
import { type ErlModule, mergedConfigs, parseSchemaModule, resolveRemoteFields } from './erlang.ts';

export interface GenerateOptions {
  /** An emqx-docs checkout (bare or not) or a dump file (`hocon-ce-v5.8.7-en.json`). */
  readonly docs: string;
  /** The ref of the emqx-docs checkout to read (default HEAD). */
  readonly docsRef?: string;
  /** An emqx/emqx checkout (bare or not) that has the tags `v<version>` and `v<dump version>`. */
  readonly emqx: string;
  readonly version: string;
  readonly out?: string;
  readonly supplement?: string;
  readonly now?: Date;
  /** The command line, recorded in the header. */
  readonly command?: string;
}

export interface GenerateResult {
  readonly catalogue: Catalogue;
  readonly text: string;
  readonly file: string;
  readonly dumpFile: string;
}

const VERSION = /^\d+\.\d+\.\d+$/;
const DUMP_NAME = /(?:^|\/)hocon-ce-v(\d+\.\d+\.\d+)-en\.json$/;

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

export function supplementFile(version: string): string {
  return path.join(CATALOGUE_DIR, `emqx-${version}.hidden.yaml`);
}

/** The newest open-source dump of the same minor release that is not newer than the version. */
export function pickDump(files: readonly string[], version: string): { file: string; version: string } | undefined {
  const minor = version.split('.').slice(0, 2).join('.');
  return files
    .flatMap((file) => {
      const m = DUMP_NAME.exec(file);
      return m && m[1]!.startsWith(`${minor}.`) && compareVersions(m[1]!, version) <= 0 ? [{ file, version: m[1]! }] : [];
    })
    .sort((a, b) => compareVersions(b.version, a.version))[0];
}

async function readDump(options: GenerateOptions): Promise<{ dump: DumpField; file: string; version: string; commit?: string }> {
  if (!existsSync(options.docs)) throw new UserError(`--docs ${options.docs}: no such file or directory. Give an emqx-docs checkout or a hocon-ce-v<version>-en.json dump.`, EXIT_USAGE);
  if (statSync(options.docs).isFile()) {
    const m = DUMP_NAME.exec(options.docs);
    if (!m) throw new UserError(`--docs ${options.docs}: the dump's name must be hocon-ce-v<version>-en.json (the version is read from it).`, EXIT_USAGE);
    return { dump: parseJson(readFileSync(options.docs, 'utf8'), options.docs), file: path.basename(options.docs), version: m[1]! };
  }
  const ref = options.docsRef ?? 'HEAD';
  const commit = await resolveCommit(options.docs, ref, '--docs-ref');
  const picked = pickDump(await filesAt(options.docs, commit), options.version);
  if (!picked) throw new UserError(`--docs ${options.docs}: no hocon/hocon-ce-v${options.version.split('.').slice(0, 2).join('.')}.*-en.json at ${ref} that is not newer than ${options.version}.`, EXIT_USAGE);
  return { dump: parseJson(await showFile(options.docs, commit, picked.file), picked.file), file: picked.file, version: picked.version, commit };
}

function parseJson(text: string, where: string): DumpField {
  try {
    return JSON.parse(text) as DumpField;
  } catch (error) {
    throw new UserError(`${where}: not a JSON schema dump (${error instanceof Error ? error.message : String(error)}).`, EXIT_USAGE);
  }
}

async function readModules(repo: string, commit: string): Promise<{ modules: Map<string, ErlModule>; files: string[] }> {
  const files = (await filesAt(repo, commit)).filter((f) => /^apps\/[^/]+\/src\/(?:.*\/)?[a-z0-9_]+_schema\.erl$/.test(f));
  const modules = new Map<string, ErlModule>();
  const parsed = await mapConcurrent(files, 8, async (file) => parseSchemaModule(file, await showFile(repo, commit, file)));
  for (const m of parsed) modules.set(m.module, m);
  resolveRemoteFields(modules);
  return { modules, files };
}

function loadSupplement(file: string): Supplement {
  if (!existsSync(file)) return { entries: [], startScript: [], alsoValid: [] };
  const data = (parse(readFileSync(file, 'utf8')) ?? {}) as Partial<Supplement>;
  const entries = data.entries ?? [];
  for (const e of entries) {
    if (!e.path || !e.checked) throw new UserError(`${displayPath(file)}: every entry needs \`path\` and \`checked\` (the source file and line it was checked against); ${JSON.stringify(e)} has not.`, EXIT_USAGE);
  }
  return { entries, startScript: data.startScript ?? [], alsoValid: data.alsoValid ?? [] };
}

const CONF_SCHEMA = 'apps/emqx_conf/src/emqx_conf_schema.erl';
const ZONE_SCHEMA = 'apps/emqx/src/emqx_zone_schema.erl';

export async function generateCatalogue(options: GenerateOptions): Promise<GenerateResult> {
  if (!VERSION.test(options.version)) throw new UserError(`--version ${options.version}: give an EMQX release such as 5.8.9.`, EXIT_USAGE);
  if (!existsSync(options.emqx)) throw new UserError(`--emqx ${options.emqx}: no such directory. Give an emqx/emqx checkout (git clone https://github.com/emqx/emqx).`, EXIT_USAGE);
  const dump = await readDump(options);
  const tag = `v${options.version}`;
  const dumpTag = `v${dump.version}`;
  const [commit, dumpCommit] = await Promise.all([resolveCommit(options.emqx, tag, '--emqx'), resolveCommit(options.emqx, dumpTag, '--emqx')]);
  const [now, then] = await Promise.all([readModules(options.emqx, commit), readModules(options.emqx, dumpCommit)]);
  const [confNow, confThen, zone] = await Promise.all([showFile(options.emqx, commit, CONF_SCHEMA), showFile(options.emqx, dumpCommit, CONF_SCHEMA), showFile(options.emqx, commit, ZONE_SCHEMA)]);
  const zoneRoots = parseSchemaModule(ZONE_SCHEMA, zone).roots.map((r) => r.name);
  const supplementPath = options.supplement ?? supplementFile(options.version);
  const supplement = loadSupplement(supplementPath);

  const catalogue = buildCatalogue({
    version: options.version,
    edition: 'ce',
    dump: dump.dump,
    dumpVersion: dump.version,
    modules: now.modules,
    dumpModules: then.modules,
    rootModules: mergedConfigs(confNow, 'ce'),
    dumpRootModules: mergedConfigs(confThen, 'ce'),
    zoneRoots,
    supplement,
    generated: {
      command: options.command ?? `npm run catalogue -- --version ${options.version} --docs <emqx-docs> --emqx <emqx>`,
      date: (options.now ?? new Date()).toISOString().slice(0, 10),
      docs: { repository: 'emqx/emqx-docs', file: dump.file, ...(dump.commit ? { commit: dump.commit } : {}), dumpVersion: dump.version },
      emqx: { repository: 'emqx/emqx', tag, commit, dumpTag, dumpCommit, schemaModules: now.files.length },
      supplement: path.basename(supplementPath),
      checked: [
        `Visible paths, types and defaults: the schema dump ${dump.file} that the EMQX ${dump.version} build wrote (emqx_conf:dump_schema), as published in emqx/emqx-docs.`,
        `Hidden paths (importance hidden: left out of the dump, still read): the fields(...) clauses of apps/*/src/*_schema.erl at ${tag}, read by scripts/lib/catalogue/erlang.ts (bracket matching, no evaluation); a type it cannot read is "any" and open (every sub-path accepted).`,
        `${dump.version} -> ${options.version}: the same modules at ${dumpTag} and ${tag} compared field by field (added, removed, default and type changes: generated.changesSinceDump), roots of modules that left the open-source edition removed (MERGED_CONFIGS in ${CONF_SCHEMA}).`,
        `zones.$name.<root>: the roots listed by emqx_zone_schema:roots() at ${tag}, without defaults (${ZONE_SCHEMA}).`,
        `Edition refusals, start-script variables and what the sources state only in code: ${path.basename(supplementPath)}, each entry naming the file and line it was checked against; the changelogs changes/v5.8.*.en.md between the two tags were read for them by hand.`,
      ],
    },
  });
  const text = serializeCatalogue(catalogue);
  const file = options.out ?? catalogueFile(options.version);
  await writeFileAtomic(file, text);
  return { catalogue, text, file, dumpFile: dump.file };
}
