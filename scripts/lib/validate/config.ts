// validate.config.yaml: the one place that declares Secrets created outside git.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { EXIT_USAGE, UserError } from '../cli/errors.ts';
import { displayPath, REPO_ROOT } from '../util/paths.ts';

export const VALIDATE_CONFIG_FILE = path.join(REPO_ROOT, 'validate.config.yaml');

export interface ValidateConfig {
  /** Secret name -> the keys it holds. */
  readonly externalSecrets: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Parses the file's text; a mistake in it is a usage error naming the file and the field. */
export function parseValidateConfig(text: string, file: string): ValidateConfig {
  const where = displayPath(file);
  const fail = (what: string) =>
    new UserError(`${where}: ${what}\nFix: write it as\n  externalSecrets:\n    - name: emqx-secrets\n      keys: [node-cookie, dashboard-password]`, EXIT_USAGE);
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (error) {
    throw fail(`not valid YAML (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
  }
  if (parsed === null || parsed === undefined) return { externalSecrets: new Map() };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw fail('the top level must be a mapping');
  const unknown = Object.keys(parsed).filter((k) => k !== 'externalSecrets');
  if (unknown.length > 0) throw fail(`unknown field ${unknown.join(', ')}`);
  const list = (parsed as { externalSecrets?: unknown }).externalSecrets ?? [];
  if (!Array.isArray(list)) throw fail('externalSecrets must be a list');
  const secrets = new Map<string, ReadonlySet<string>>();
  list.forEach((entry: unknown, index) => {
    const e = entry as { name?: unknown; keys?: unknown } | null;
    if (!e || typeof e.name !== 'string' || e.name === '') throw fail(`externalSecrets[${index}].name must be a Secret name`);
    if (!Array.isArray(e.keys) || e.keys.length === 0 || !e.keys.every((k) => typeof k === 'string')) throw fail(`externalSecrets[${index}].keys must list the Secret's keys`);
    if (secrets.has(e.name)) throw fail(`externalSecrets declares ${e.name} twice; declare each Secret once`);
    secrets.set(e.name, new Set(e.keys as string[]));
  });
  return { externalSecrets: secrets };
}

export function loadValidateConfig(file: string = VALIDATE_CONFIG_FILE): ValidateConfig {
  if (!existsSync(file)) return { externalSecrets: new Map() };
  return parseValidateConfig(readFileSync(file, 'utf8'), file);
}
