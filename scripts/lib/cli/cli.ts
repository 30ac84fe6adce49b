// What every command does with its command line before any work: parse it, and check the options
// all of them share. Each mistake is a UsageError (exit 2) that carries the command's usage text.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.ts';

/**
 * `--format`'s value, one of `formats` (the first when none is given); anything else is a usage
 * error naming them. A list, not an object's keys: `'toString' in {...}` is true.
 */
export function formatOption<F extends string>(value: unknown, formats: readonly F[], usage: string): F {
  const format = (value ?? formats[0]) as F;
  if (!formats.includes(format)) throw new UsageError(`--format must be one of ${formats.join(', ')}, not "${String(value)}"`, usage);
  return format;
}

/** node:util parseArgs, strict, positionals allowed, with its exceptions turned into a UsageError. */
export function parseCommandLine<T extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: T, usage: string) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), usage);
  }
}
