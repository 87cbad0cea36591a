/**
 * `ysco init [flags] PKGPATH[@VERSION]`: sets up a deployment of a Go service in the
 * working directory (see src/deploy/init_deployment.ts) and prints the command that starts it.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { tomlString } from "../config/describe.ts";
import { ConfigError, parseConfig } from "../config/parse.ts";
import { UsageError } from "../errors.ts";
import { formatHostPort, hostPortProblem, parseHostPort } from "../host_port.ts";
import { adminUrl, initDeployment, type InitResult } from "../deploy/init_deployment.ts";
import { hostGoarch, hostGoos } from "../buildinfo/platform.ts";
import { createProgress } from "./progress.ts";
import { yscoExecutable } from "../deploy/ysco_executable.ts";
import type { Command } from "./command.ts";
import { formatFlags, parseFlags } from "./flags.ts";

/** The admin address of the printed command, as the original's localhost:1234. */
export const DEFAULT_ADMIN_ADDR = "127.0.0.1:1234";

const FLAGS = {
  dir: {
    type: "string",
    value: "DIR",
    default: "ys",
    help: "state directory to create, with ysco.toml and the password",
  },
  addr: {
    type: "string",
    value: "ADDR",
    help: `admin address for the printed command (default ${DEFAULT_ADMIN_ADDR}, or the ` +
      "next free port)",
  },
  goversion: {
    type: "string",
    value: "GOVERSION",
    help: "Go toolchain of the binary, e.g. go1.23.4 (default: the current Go release)",
  },
  methods: {
    type: "string",
    value: "LIST",
    help: 'discovery methods in order, e.g. "dns,goproxy" (monitor.methods)',
  },
  resolver: {
    type: "string",
    value: "HOST:PORT",
    help: "DNS resolver (monitor.resolver; default: /etc/resolv.conf)",
  },
  gopherwatch: {
    type: "string",
    value: "DOMAIN",
    help: "base domain of the gopherwatch DNS service (monitor.dns)",
  },
  goproxy: { type: "string", value: "URL", help: "Go module proxy (monitor.goproxy)" },
  verifierkey: {
    type: "string",
    value: "KEY",
    help: "verifier key of the gobuild transparency log (gobuild.verifier_key)",
  },
  gobuildurl: {
    type: "string",
    value: "URL",
    help: "base URL of the gobuild log, .../tlog (gobuild.base_url)",
  },
} as const;

/** Flags that set a configuration key, which init also writes into ysco.toml. */
const SOURCE_FLAGS = {
  methods: ["monitor", "methods"],
  resolver: ["monitor", "resolver"],
  gopherwatch: ["monitor", "dns"],
  goproxy: ["monitor", "goproxy"],
  verifierkey: ["gobuild", "verifier_key"],
  gobuildurl: ["gobuild", "base_url"],
} as const;

type SourceFlag = keyof typeof SOURCE_FLAGS;

/** The init command. */
export const initCommand: Command = {
  name: "init",
  usage: `usage: ysco init [flags] PKGPATH[@VERSION]

Sets up a deployment of the Go service with package path PKGPATH (the path you
would "go install", e.g. github.com/mjl-/moxtools) in the working directory:

  DIR/ysco.toml, DIR/password.txt, DIR/state.json   configuration, admin password, state
  NAME-VERSION-GOVERSION                            the service binary, verified through
                                                    the gobuild transparency log
  NAME -> NAME-VERSION-GOVERSION                    the symlink ysco runs and updates
  ysco -> (this ysco)                               unless ./ysco exists

VERSION defaults to the newest release of the module, found by trimming PKGPATH until
gopherwatch DNS or the Go module proxy knows it; the Go toolchain to the current Go
release. Then it prints the command that starts the service under ysco, and the
admin URL. It refuses to touch an existing DIR or file, and a failure or Ctrl-C
leaves nothing behind.

The source flags are for private setups and tests; they are also written into
ysco.toml so that "ysco run" uses the same sources.

flags:
${formatFlags(FLAGS)}`,
  async run(args, io) {
    const { flags, given, rest } = parseFlags(args, FLAGS, { stopAtOperand: false });
    const [target, extra] = rest;
    if (target === undefined) throw new UsageError("missing PKGPATH");
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const at = target.indexOf("@");
    const pkgPath = at < 0 ? target : target.slice(0, at);
    const versionArg = at < 0 ? undefined : target.slice(at + 1);
    if (pkgPath === "" || versionArg === "") {
      throw new UsageError(`"${target}" is not PKGPATH or PKGPATH@VERSION`);
    }
    if (flags.dir === "") throw new UsageError('flag "-dir" must not be empty');
    const sources: Partial<Record<SourceFlag, string>> = {};
    for (const name of Object.keys(SOURCE_FLAGS) as SourceFlag[]) {
      if (given.has(name)) sources[name] = flags[name];
    }
    const config = configFromFlags(sources);
    const addrProblem = given.has("addr")
      ? hostPortProblem(flags.addr, { emptyHost: true })
      : undefined;
    if (addrProblem !== undefined) {
      throw new UsageError(`flag "-addr": "${flags.addr}": ${addrProblem}`);
    }
    const addr = given.has("addr") ? flags.addr : freeAdminAddr();

    const cwd = Deno.cwd();
    const controller = new AbortController();
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
    const onSignal = () => controller.abort(new Error("interrupted"));
    for (const s of signals) Deno.addSignalListener(s, onSignal);
    const terminal = Deno.stderr.isTerminal();
    let result: InitResult;
    try {
      result = await initDeployment({
        pkgPath,
        ...(versionArg !== undefined && versionArg !== "latest" ? { version: versionArg } : {}),
        ...(given.has("goversion") ? { goVersion: flags.goversion } : {}),
        cwd,
        dir: flags.dir,
        config,
        goos: hostGoos(),
        goarch: hostGoarch(),
        self: yscoExecutable(cwd)?.path,
        signal: controller.signal,
        onNote: (line) => io.err(line + "\n"),
        onDownload: (name, size) =>
          createProgress({
            label: name,
            total: size,
            write: (text) => io.err(text),
            terminal,
            columns: terminalColumns(),
          }),
      });
    } catch (err) {
      if (controller.signal.aborted) {
        io.err("ysco init: interrupted; everything it made is removed\n");
        return 130;
      }
      throw err;
    } finally {
      for (const s of signals) Deno.removeSignalListener(s, onSignal);
    }
    io.out(finalMessage(result, { cwd, dir: flags.dir, addr }));
    return 0;
  },
};

/**
 * The configuration for init: the defaults with the source flags applied, checked
 * as ysco.toml would be.
 * @throws UsageError naming the flag of a bad value
 */
export function configFromFlags(sources: Partial<Record<SourceFlag, string>>): Config {
  const tables = new Map<string, string[]>();
  for (const [flag, value] of Object.entries(sources) as Array<[SourceFlag, string]>) {
    const [table, key] = SOURCE_FLAGS[flag];
    const toml = flag === "methods"
      ? `[${value.split(",").map((m) => tomlString(m.trim())).join(", ")}]`
      : tomlString(value);
    tables.set(table, [...tables.get(table) ?? [], `${key} = ${toml}`]);
  }
  // auth_file is required; init sets the real one.
  const text = ['auth_file = "-"', ...[...tables].map(([t, l]) => `[${t}]\n${l.join("\n")}`)]
    .join("\n");
  try {
    return parseConfig(text, "flags");
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const byPath = new Map(
      Object.entries(SOURCE_FLAGS).map(([flag, [t, k]]) => [`${t}.${k}`, flag]),
    );
    throw new UsageError(
      err.issues.map((i) => `flag "-${byPath.get(i.path) ?? i.path}": ${i.message}`).join("; "),
    );
  }
}

/** The message after a successful init: what was made, the command, the admin URL. */
export function finalMessage(
  r: InitResult,
  o: { cwd: string; dir: string; addr: string },
): string {
  const dirFlag = o.dir === "ys" ? "" : ` -dir ${o.dir}`;
  const ysco = r.ysco === "none" ? "ysco" : "./ysco";
  const runArgs = `-addr ${o.addr}${dirFlag} ./${r.link}`;
  const rows: Array<[string, string]> = [
    [`${o.dir}/ysco.toml`, "configuration: what differs from the defaults (see ysco config)"],
    [`${o.dir}/password.txt`, "the admin password"],
    [
      r.binary,
      `${r.module}@${r.version}${
        r.pkgDir === "/" ? "" : r.pkgDir
      } built with ${r.goVersion}, verified`,
    ],
    [`${r.link} -> ${r.binary}`, "what ysco runs and updates"],
  ];
  if (r.ysco === "created") rows.push([`ysco -> ${r.yscoTarget}`, ""]);
  const width = Math.max(...rows.map(([a]) => a.length));
  const lines = [
    "",
    `Set up ${r.link} in ${o.cwd}:`,
    ...rows.map(([a, b]) => (b === "" ? `  ${a}` : `  ${a.padEnd(width)}  ${b}`)),
    "",
    "Start it (add the service's own flags at the end):",
    "",
    `  ${ysco} run ${runArgs}`,
    "",
    `The admin interface will be at ${adminUrl(o.addr, r.password)}`,
    `To start it at boot with systemd: ${ysco} systemd-unit ${runArgs}`,
  ];
  if (r.ysco === "none") {
    lines.push(
      "(No ./ysco symlink: ysco was started by deno run; start it the same way.)",
    );
  }
  return lines.join("\n") + "\n";
}

/** DEFAULT_ADMIN_ADDR, or the next port after it that is free now. */
function freeAdminAddr(): string {
  const { host, port: first } = parseHostPort(DEFAULT_ADMIN_ADDR);
  for (let port = first; port < first + 100; port++) {
    try {
      Deno.listen({ hostname: host, port }).close();
      return formatHostPort(host, port);
    } catch {
      // taken: try the next
    }
  }
  return DEFAULT_ADMIN_ADDR;
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}
