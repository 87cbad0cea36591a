/**
 * ysco: managed automated updates for Go services.
 *
 * The entry point: maps the first argument to a subcommand, prints usage for bad
 * command lines (exit 2), and exits with the command's status. The only place that
 * calls Deno.exit.
 *
 * @module
 */

import { type Command, type Io, processIo } from "./src/cli/command.ts";
import { HelpRequested } from "./src/cli/flags.ts";
import { errorMessage, UsageError } from "./src/errors.ts";

/** A subcommand, loaded only when it runs, so that every command starts fast. */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** Every command, in the order of the overview. */
export const COMMANDS: CommandEntry[] = [
  {
    name: "check",
    summary: "look up new versions of a Go binary's module (or a module path) and Go toolchains",
    load: async () => (await import("./src/cli/check.ts")).checkCommand,
  },
  {
    name: "config",
    summary: "print the configuration with every key at its default, examples as comments",
    load: async () => (await import("./src/cli/config.ts")).configCommand,
  },
  {
    name: "configdefaults",
    summary: "print the same configuration without the example comments",
    load: async () => (await import("./src/cli/config.ts")).configDefaultsCommand,
  },
  {
    name: "fleet",
    summary: "show this host's rollout group in etcd (status) or lift a halt (resume)",
    load: async () => (await import("./src/cli/fleet.ts")).fleetCommand,
  },
  {
    name: "fetch",
    summary: "look up a binary in the gobuild transparency log, verify it and download it",
    load: async () => (await import("./src/cli/fetch.ts")).fetchCommand,
  },
  {
    name: "init",
    summary: "set up a Go service in this directory: ysco init github.com/mjl-/moxtools",
    load: async () => (await import("./src/cli/init.ts")).initCommand,
  },
  {
    name: "inspect",
    summary: "show the Go build information of binaries (module, version, Go version, platform)",
    load: async () => (await import("./src/cli/inspect.ts")).inspectCommand,
  },
  {
    name: "licenses",
    summary: "print the licenses of ysco and of everything bundled in it",
    load: async () => (await import("./src/cli/licenses.ts")).licensesCommand,
  },
  {
    name: "plan",
    summary: "dry run: what ysco would install for a binary, when, and why",
    load: async () => (await import("./src/cli/plan.ts")).planCommand,
  },
  {
    name: "release-sign",
    summary: "make ysco's signed release feed from built files (for publishing ysco)",
    load: async () => (await import("./src/cli/release_sign.ts")).releaseSignCommand,
  },
  {
    name: "run",
    summary: "run a Go service and keep it up to date: ysco run [flags] ./app [args]",
    load: async () => (await import("./src/cli/run.ts")).runCommand,
  },
  {
    name: "systemd-unit",
    summary: "print a hardened systemd unit that runs ysco run for a service",
    load: async () => (await import("./src/cli/systemd_unit.ts")).systemdUnitCommand,
  },
  {
    name: "testconfig",
    summary: "check a configuration file (or standard input): silent and 0 when valid",
    load: async () => (await import("./src/cli/config.ts")).testConfigCommand,
  },
  {
    name: "version",
    summary: "print ysco's version, the Deno and V8 versions, and the platform",
    load: async () => (await import("./src/cli/version.ts")).versionCommand,
  },
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "usage: ysco COMMAND [flags] [args]",
    "",
    "ysco supervises a Go service and keeps it up to date: it discovers new versions,",
    "decides by policy and schedule, fetches binaries verified through a transparency",
    "log, installs them and rolls back when the new version fails.",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${"help".padEnd(width)}  show this overview, or a command's usage: ysco help COMMAND`,
    "",
  ].join("\n");
}

/** Runs ysco with args and returns the exit status. */
export async function main(args: string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    io.err(overview());
    return 2;
  }
  if (name === "help" || name === "-h" || name === "-help" || name === "--help") {
    const topic = COMMANDS.find((c) => c.name === rest[0]);
    if (rest.length > 0 && topic === undefined) {
      io.err(`ysco: unknown command "${rest[0]}"\n\n${overview()}`);
      return 2;
    }
    io.out(topic ? (await topic.load()).usage + "\n" : overview());
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry === undefined) {
    io.err(`ysco: unknown command "${name}"\n\n${overview()}`);
    return 2;
  }
  const command = await entry.load();
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof HelpRequested) {
      io.out(command.usage + "\n");
      return 0;
    }
    if (err instanceof UsageError) {
      io.err(`ysco ${command.name}: ${err.message}\n\n${command.usage}\n`);
      return 2;
    }
    io.err(`ysco ${command.name}: ${errorMessage(err)}\n`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
