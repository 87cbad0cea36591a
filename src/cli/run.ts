/**
 * `ysco run [flags] CMD [ARGS...]`: supervise a Go service and keep it up to date.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { type RunOptions, runService } from "../run_service.ts";
import { SELF_ENV, selfPath } from "../self/self_path.ts";
import type { Command } from "./command.ts";
import { type FlagValues, formatFlags, parseFlags } from "./flags.ts";

/**
 * The flags of `ysco run`. They can never change incompatibly: they live in systemd
 * units, and a self-update re-executes ysco with its original arguments.
 */
export const RUN_FLAGS = {
  dir: {
    type: "string",
    value: "DIR",
    default: "ys",
    help: "directory with ysco.toml, state.json and the transparency log cache",
  },
  user: {
    type: "string",
    value: "USER",
    help: "run the service as this user name or uid (ysco must run as root)",
  },
  groups: {
    type: "string",
    value: "GROUPS",
    help:
      "comma-separated group names or gids for the service (with -user; default: the user's groups)",
  },
  addr: {
    type: "string",
    value: "ADDR",
    help: "listen address for the admin and metrics web interfaces",
  },
  adminaddr: {
    type: "string",
    value: "ADDR",
    help: "listen address for the admin web interface only",
  },
  metricsaddr: {
    type: "string",
    value: "ADDR",
    help: "listen address for the Prometheus metrics only",
  },
} as const;

/** The run command. */
export const runCommand: Command = {
  name: "run",
  usage: `usage: ysco run [flags] CMD [ARGS...]

Starts the Go service CMD (an explicit path: absolute, ./ or ../) with ARGS and keeps
it up to date. Signals INT, TERM, HUP, USR1 and USR2 are forwarded to the service;
ysco exits when the service exits, with its exit code. Flags stop at CMD: everything
after it belongs to the service.

flags:
${formatFlags(RUN_FLAGS)}`,
  async run(args) {
    const { flags, rest } = parseFlags(args, RUN_FLAGS);
    const [cmd, ...serviceArgs] = rest;
    if (cmd === undefined) throw new UsageError("missing CMD");
    // Read once: the variable is for this process only, not for programs it starts.
    const self = selfPath();
    Deno.env.delete(SELF_ENV);
    return await runService(runOptions(flags, cmd, serviceArgs, self, [self, "run", ...args]));
  },
};

/** The options of runService from run's parsed flags (shared with systemd-unit). */
export function runOptions(
  flags: FlagValues<typeof RUN_FLAGS>,
  cmd: string,
  args: string[],
  self = "",
  argv: string[] = [],
): RunOptions {
  return {
    dir: flags.dir,
    user: flags.user,
    groups: flags.groups,
    addr: flags.addr,
    adminAddr: flags.adminaddr,
    metricsAddr: flags.metricsaddr,
    cmd,
    args,
    self,
    argv,
  };
}
