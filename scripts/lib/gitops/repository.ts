// gitops/repository/repository.env: the one place the repository URL and the branch Argo CD and
// Flux deploy are set, read as kustomize reads an env file (KEY=VALUE lines, `#` comments).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT_FINDINGS, UserError } from '../cli/errors.ts';
import { displayPath } from '../util/paths.ts';

export const REPOSITORY_ENV = path.join('gitops', 'repository', 'repository.env');

export interface RepositorySettings {
  readonly url: string;
  /** The branch a merge lands on. */
  readonly revision: string;
}

export function parseRepositoryEnv(text: string, file: string): RepositorySettings {
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
  const settings = Object.fromEntries(entries) as Partial<RepositorySettings>;
  const missing = (['url', 'revision'] as const).filter((k) => !settings[k]);
  if (missing.length > 0) throw new UserError(`${file}: ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not set. Fix: \`url=https://...\` and \`revision=<branch>\`, one per line.`, EXIT_FINDINGS);
  return { url: settings.url!, revision: settings.revision! };
}

export function readRepositorySettings(root: string): RepositorySettings {
  const file = path.join(root, REPOSITORY_ENV);
  return parseRepositoryEnv(readFileSync(file, 'utf8'), displayPath(file));
}
