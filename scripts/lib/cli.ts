import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.ts';

/**
 * node:util parseArgs, with its exceptions turned into a UsageError (exit 2) that carries the
 * command's usage text.
 */
export function parseCommandLine<T extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: T, usage: string) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), usage);
  }
}
