// What a command shows for an error thrown by the library it calls, without starting the command:
// runMain (scripts/lib/cli/main.ts) prints a UserError's message after `error: ` and exits with its
// code; anything else is an internal error, exit 2. Each command keeps one real run
// (test/helpers/run.ts) that proves it goes through runMain; the variants of its input call the
// library through this.
import { UserError } from '../../scripts/lib/cli/errors.ts';
import type { CommandOutput } from './run.ts';

export async function asCommandError(action: () => unknown): Promise<CommandOutput> {
  try {
    await action();
  } catch (error) {
    if (error instanceof UserError) return { exitCode: error.exitCode, stdout: '', stderr: `error: ${error.message}\n` };
    return { exitCode: 2, stdout: '', stderr: `internal error: ${error instanceof Error ? error.message : String(error)}\n` };
  }
  return { exitCode: 0, stdout: '', stderr: '' };
}
