/**
 * The shape of a subcommand: main.ts dispatches to these, prints usage on
 * UsageError, and exits with the returned status.
 *
 * @module
 */

/** Where a command writes its output; main passes the process's stdout and stderr. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** A ysco subcommand. */
export interface Command {
  /** The word after "ysco". */
  name: string;
  /** Full usage text, starting with "usage: ysco NAME ...". */
  usage: string;
  /**
   * Runs the command.
   * @returns the exit status
   * @throws UsageError for a bad command line
   */
  run(args: string[], io: Io): Promise<number>;
}

/** An Io writing to the process's stdout and stderr. */
export function processIo(): Io {
  const enc = new TextEncoder();
  const write = (f: { writeSync(p: Uint8Array): number }, text: string) => {
    let bytes = enc.encode(text);
    while (bytes.length > 0) bytes = bytes.subarray(f.writeSync(bytes));
  };
  return { out: (t) => write(Deno.stdout, t), err: (t) => write(Deno.stderr, t) };
}
