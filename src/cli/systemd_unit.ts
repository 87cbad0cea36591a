/**
 * `ysco systemd-unit [-name NAME] [-socket] [RUN-FLAGS] CMD [ARGS...]`: prints a
 * systemd unit that runs `ysco run RUN-FLAGS CMD ARGS` in the working directory, or
 * with -socket the socket unit of its process.listen.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { readConfigOrDefaults } from "../config/load.ts";
import { ConfigError } from "../config/parse.ts";
import { errorMessage, UsageError } from "../errors.ts";
import { exists } from "../exists.ts";
import { checkRunOptions } from "../run_service.ts";
import { isScript, type YscoExecutable, yscoExecutable } from "../deploy/ysco_executable.ts";
import { capabilityName, parseCapability } from "../supervise/capabilities.ts";
import { listenStream, parseListenEntry } from "../supervise/listen_address.ts";
import { socketUnit, systemdUnit } from "../deploy/unit_file.ts";
import type { Command } from "./command.ts";
import { formatFlags, parseFlags } from "./flags.ts";
import { RUN_FLAGS, runOptions } from "./run.ts";

const FLAGS = {
  name: {
    type: "string",
    value: "NAME",
    help: "name of the unit, NAME.service (default: the name of CMD)",
  },
  socket: {
    type: "boolean",
    help: "print the socket unit NAME.socket for the sockets of process.listen instead",
  },
  ...RUN_FLAGS,
} as const;

/** The systemd-unit command. */
export const systemdUnitCommand: Command = {
  name: "systemd-unit",
  usage: `usage: ysco systemd-unit [-name NAME] [-socket] [run flags] CMD [ARGS...]

Prints a systemd service unit that runs "ysco run [run flags] CMD [ARGS...]" in the
working directory, restarts ysco when it fails, and is hardened: no new privileges,
a read-only system except the directories ysco writes (the binaries' and ys/), no
access to home directories, and with -user only the capabilities ysco needs to
start the service as that user. Run it where "ysco init" ran, with the command
init printed:

  ./ysco systemd-unit -user svc -addr 127.0.0.1:1234 ./app >/etc/systemd/system/app.service

With process.listen set, the service unit takes the listening sockets from
NAME.socket, which -socket prints: systemd then holds them while ysco restarts.

flags:
${formatFlags(FLAGS)}`,
  async run(args, io) {
    const { flags, rest } = parseFlags(args, FLAGS);
    const [cmd, ...serviceArgs] = rest;
    if (cmd === undefined) throw new UsageError("missing CMD");
    const cwd = Deno.cwd();
    checkRunOptions(runOptions(flags, cmd, serviceArgs));
    const name = flags.name || basename(cmd);
    if (!/^[A-Za-z0-9:_.\\-]+$/.test(name)) {
      throw new UsageError(`"${name}" cannot be a unit name: give one with -name`);
    }
    let config;
    try {
      config = await readConfigOrDefaults(flags.dir);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.err(err.message + "\n");
      return 1;
    }
    let listen: string[];
    try {
      listen = config.process.listen.map((e) => listenStream(parseListenEntry(e), cwd));
    } catch (err) {
      io.err(`ysco systemd-unit: ${errorMessage(err)}\n`);
      return 1;
    }
    if (flags.socket) {
      if (listen.length === 0) {
        io.err(
          `ysco systemd-unit: -socket needs process.listen in ${join(flags.dir, "ysco.toml")}\n`,
        );
        return 1;
      }
      io.out(socketUnit({
        name,
        workingDirectory: cwd,
        listen,
        command: [(await yscoForUnit(cwd))?.path ?? "ysco", "systemd-unit", ...args],
      }));
      return 0;
    }
    let capabilities: string[];
    try {
      capabilities = config.process.ambient_capabilities.map((c) =>
        capabilityName(parseCapability(c))
      );
    } catch (err) {
      io.err(`ysco systemd-unit: ${errorMessage(err)}\n`);
      return 1;
    }
    const ysco = await yscoForUnit(cwd);
    if (ysco === undefined) {
      io.err(
        "ysco systemd-unit: Cannot name ysco's executable: it runs through deno run; " +
          "use bin/ysco or a release build, or run it where ./ysco is\n",
      );
      return 1;
    }
    const runFlags = args.slice(0, args.length - rest.length).filter((_, i, all) =>
      !isNameFlag(all, i) && !/^--?socket(=.*)?$/.test(all[i] ?? "")
    );
    io.out(systemdUnit({
      name,
      ysco: ysco.path,
      args: ["run", ...runFlags, cmd, ...serviceArgs],
      workingDirectory: cwd,
      writablePaths: [
        cwd,
        resolve(cwd, flags.dir),
        dirname(resolve(cwd, cmd)),
        ...(ysco.underDeno ? [] : [dirname(ysco.path)]),
      ],
      ...(flags.user !== "" ? { user: flags.user } : {}),
      capabilities,
      stopTimeoutMs: config.update.stop_timeout,
      ...(ysco.underDeno ? { denoDir: denoDir() } : {}),
      command: [ysco.path, "systemd-unit", ...args],
      listen,
    }));
    return 0;
  },
};

/** Whether args[i] is -name or its value (those belong to systemd-unit, not to run). */
function isNameFlag(args: string[], i: number): boolean {
  const is = (a: string | undefined) => a === "-name" || a === "--name";
  const a = args[i] ?? "";
  return is(a) || /^--?name=/.test(a) || is(args[i - 1]);
}

/**
 * The ysco for ExecStart: ./ysco when it exists (self-updates replace its target),
 * else the executable as started; undefined under `deno run main.ts`.
 */
async function yscoForUnit(cwd: string): Promise<YscoExecutable | undefined> {
  const local = join(cwd, "ysco");
  return await exists(local) ? { path: local, underDeno: isScript(local) } : yscoExecutable(cwd);
}

/** Deno's cache directory, as deno itself finds it. */
function denoDir(): string {
  const env = (k: string) => Deno.env.get(k) || undefined;
  return env("DENO_DIR") ??
    join(env("XDG_CACHE_HOME") ?? join(env("HOME") ?? "/root", ".cache"), "deno");
}
