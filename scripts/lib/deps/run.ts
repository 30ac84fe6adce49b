// `npm run deps`: Renovate's extraction of the repository as one table, and with --check, the
// kit's pins (pins.ts) held to it. renovate.json goes through Renovate's own validator first: with
// an invalid configuration Renovate extracts nothing and still exits 0, which would read as
// "no dependencies" rather than "broken configuration".
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../cli/errors.ts';
import { extractDependencies, validateConfig, type Renovate } from '../tools/renovate.ts';
import { checkPins, depRows, type DepRow, type PinProblem } from './check.ts';
import { findPins, type Pin } from './pins.ts';

export const RENOVATE_CONFIG = 'renovate.json';

export type DepsReport =
  | { readonly outcome: 'invalid-config'; readonly configMessages: readonly string[] }
  | {
      readonly outcome: 'extracted';
      readonly rows: readonly DepRow[];
      /** With `check`: the kit's pins and what is wrong with them. */
      readonly pins?: readonly Pin[];
      readonly problems?: readonly PinProblem[];
      readonly seconds: number;
    };

export async function runDeps(renovate: Renovate, root: string, options: { check: boolean; usage: string }): Promise<DepsReport> {
  const started = Date.now();
  // Renovate on the local platform reads the files git tracks: say so rather than let it onboard.
  if (!existsSync(path.join(root, '.git'))) throw new UsageError(`${root} is not a git checkout: Renovate reads the files git tracks there.`, options.usage);
  const config = path.join(root, RENOVATE_CONFIG);
  if (!existsSync(config)) throw new UsageError(`${config} does not exist: it is the configuration Renovate reads (docs/deps.md).`, options.usage);
  const configMessages = await validateConfig(renovate, config);
  if (configMessages.length > 0) return { outcome: 'invalid-config', configMessages };
  const rows = depRows(await extractDependencies(renovate, root));
  const seconds = (Date.now() - started) / 1000;
  if (!options.check) return { outcome: 'extracted', rows, seconds };
  const pins = findPins(root);
  return { outcome: 'extracted', rows, pins, problems: checkPins(pins, rows), seconds };
}
