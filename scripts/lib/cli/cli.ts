import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.ts';

/**
 * node:util parseArgs, with its exceptions turned into a UsageError (exit 2) that carries the
 * command's usage text.
 */
/** `--format`'s value, one of `formats`; anything else is a usage error naming them. */
export function formatOption<F extends string>(value: unknown, formats: readonly F[], usage: string): F {
  const format = (value ?? formats[0]) as F;
  if (!formats.includes(format)) throw new UsageError(`--format must be one of ${formats.join(', ')}, not "${String(value)}"`, usage);
  return format;
}

export function parseCommandLine<T extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: T, usage: string) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), usage);
  }
}
