import { EXIT_USAGE, UserError, type ExitCode } from './errors.ts';

/**
 * Runs a command's body and maps its outcome to an exit code in one place. A UserError prints its
 * message; anything else is a bug in this repository, reported without a stack trace unless DEBUG
 * is set, so that a user sees what to do rather than our internals.
 */
export async function runMain(body: () => Promise<ExitCode>): Promise<never> {
  let code: number;
  try {
    code = await body();
  } catch (error) {
    if (error instanceof UserError) {
      process.stderr.write(`error: ${error.message}\n`);
      code = error.exitCode;
    } else {
      const detail = error instanceof Error ? error.message : String(error);
      process.stderr.write(
        `internal error: ${detail}\n` +
          'This is a bug in the emqx-gitops scripts. Re-run with DEBUG=1 for details and report it.\n',
      );
      if (process.env.DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
      code = EXIT_USAGE;
    }
  }
  process.exit(code);
}
