// Exit codes mean one thing each (documented in the README, "Exit codes"):
export const EXIT_OK = 0;
/** The command ran and found problems in the input: a broken overlay, a finding, a change with --exit-code. */
export const EXIT_FINDINGS = 1;
/** The command could not do its job: bad arguments, a missing or broken tool. */
export const EXIT_USAGE = 2;

export type ExitCode = typeof EXIT_OK | typeof EXIT_FINDINGS | typeof EXIT_USAGE;

/**
 * A problem the user can fix. Its message is complete on its own (what, where, how to fix) and is
 * printed as is, never with a stack trace.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT_USAGE,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Wrong arguments: exit 2, with the usage text appended. */
export class UsageError extends UserError {
  constructor(message: string, usage: string) {
    super(`${message}\n\n${usage}`, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/** A tool that is missing or broken: exit 2. */
export class ToolError extends UserError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'ToolError';
  }
}
