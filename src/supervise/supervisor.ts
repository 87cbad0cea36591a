/**
 * The supervisor: starts the service with ysco's stdio, environment and working
 * directory in its own process group, forwards INT, TERM, HUP, USR1 and USR2 to it,
 * reports its exit, and stops it (TERM, a bounded wait, then KILL to the whole
 * process group). Whenever a service process exits, for whatever reason, what is
 * left of its process group is killed (as systemd's KillMode=mixed does): one stop
 * path for a stop, an update and a natural exit. It only supervises: when to
 * restart, update or roll back is the updater's decision.
 *
 * With listening sockets (process.listen, or sockets from systemd) every process
 * gets them as fds 3.. with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES, through a
 * shell that moves them into place (src/supervise/listen_shim.ts): connections
 * wait in the kernel's queue while one process stops and the next starts.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { waitChild } from "../self/exec.ts";
import { commandLine, type Credentials } from "./credentials.ts";
import { type ListenSocket, withInheritedSockets } from "./listen_sockets.ts";
import { listenEnv, shimCommandLine } from "./listen_shim.ts";

/** Signals forwarded from ysco to the service. */
export const FORWARDED_SIGNALS: readonly Deno.Signal[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGUSR1",
  "SIGUSR2",
];

/** How a service process ended. */
export interface ExitStatus {
  /** Exit code; 128 + the signal number when a signal killed it; 1 when it could not start. */
  code: number;
  /** The signal that killed it, if any. */
  signal: Deno.Signal | null;
  /** Set when the process could not be started at all. */
  startError?: string;
  /** When ysco saw the exit (performance.now()), to measure how soon the next start follows. */
  seenAt?: number;
}

/** A started service process. */
export interface ServiceProcess {
  pid: number;
  /** When it was started (ms since the epoch). */
  startedAt: number;
  /** Resolves once, when the process has exited. */
  status: Promise<ExitStatus>;
}

/** How to start the service. */
export interface SupervisorOptions {
  /** The service binary, as given on the command line (usually a symlink). */
  cmd: string;
  args: readonly string[];
  /** Run as another user; undefined: as ysco's user. */
  credentials?: Credentials;
  /** Linux ambient capabilities (numbers), applied with credentials. */
  capabilities?: readonly number[];
  /** Environment of the service. @default ysco's environment */
  env?: Record<string, string>;
  /** Listening sockets every service process gets as fds 3.. (src/supervise/listen_sockets.ts). */
  listen?: readonly ListenSocket[];
  /**
   * The program that starts the service in a session of its own; "" to fork for it
   * instead. @default util-linux setsid when the system has it
   */
  setsid?: string;
  log: Logger;
}

/** Supervises one service process at a time. */
export class Supervisor {
  #options: SupervisorOptions;
  #child: Deno.ChildProcess | undefined;
  /** A service taken over after an exec (not a Deno child object). */
  #adopted: ServiceProcess | undefined;
  #current: ServiceProcess | undefined;

  /** setsid(1), when the system has it. */
  #setsid: string | undefined;

  /** @param options how to start the service */
  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#setsid = options.setsid === undefined ? findSetsid() : options.setsid || undefined;
  }

  /** The running process, or undefined between an exit and the next start. */
  get current(): ServiceProcess | undefined {
    return this.#current;
  }

  /**
   * Starts the service. A process that cannot be started is reported as exited with
   * code 1 and `startError` set, like any other exit.
   */
  start(): ServiceProcess {
    const { cmd, args, credentials, capabilities = [], env, listen = [], log } = this.#options;
    const direct = commandLine(cmd, args, credentials, capabilities);
    const line = listen.length > 0 ? shimCommandLine(direct, listen.map((s) => s.fd)) : direct;
    const startedAt = Date.now();
    log.debug("starting service", { cmd: [cmd, ...args].join(" ") });
    let child: Deno.ChildProcess;
    try {
      // A session and process group of its own, so that a terminal's Ctrl-C reaches only
      // ysco (which forwards it) and a stop can kill what the service started: through
      // setsid(1) where there is one, whose spawn is a third of a forked one's (Deno
      // forks for `detached`), which keeps the gap of an update short.
      const session = this.#setsid;
      if (session !== undefined) checkExecutable(cmd);
      const command = new Deno.Command(session ?? line.program, {
        args: session === undefined ? line.args : [line.program, ...line.args],
        stdin: "inherit",
        stdout: "inherit",
        stderr: "inherit",
        detached: session === undefined,
        env: listenEnv(env ?? Deno.env.toObject(), listen.map((s) => s.name)),
        clearEnv: true,
      });
      child = withInheritedSockets(listen, () => command.spawn());
    } catch (err) {
      const startError = errorMessage(err);
      log.error("cannot start service", { cmd, err: startError });
      const proc: ServiceProcess = {
        pid: 0,
        startedAt,
        status: Promise.resolve({ code: 1, signal: null, startError }),
      };
      this.#current = proc;
      this.#child = undefined;
      return proc;
    }
    const proc: ServiceProcess = {
      pid: child.pid,
      startedAt,
      status: child.status.then((s) => {
        killGroup(child.pid);
        if (this.#child === child) {
          this.#child = undefined;
          this.#current = undefined;
        }
        return { code: s.code, signal: s.signal, seenAt: performance.now() };
      }),
    };
    this.#child = child;
    this.#adopted = undefined;
    this.#current = proc;
    log.info("service started", {
      pid: child.pid,
      ...(credentials
        ? { uid: credentials.uid, gid: credentials.gid, groups: credentials.groups.join(",") }
        : {}),
    });
    return proc;
  }

  /**
   * Takes over a service started by the ysco this process replaced (exec keeps the
   * pid, so the service is still our child): waits for it through waitpid.
   */
  adopt(pid: number, startedAt: number): ServiceProcess {
    const proc: ServiceProcess = {
      pid,
      startedAt,
      status: waitChild(pid).then(
        (s) => s,
        (err) => ({ code: 1, signal: null, startError: errorMessage(err) }),
      ).then((s) => {
        killGroup(pid);
        if (this.#adopted === proc) {
          this.#adopted = undefined;
          this.#current = undefined;
        }
        return s;
      }),
    };
    this.#adopted = proc;
    this.#child = undefined;
    this.#current = proc;
    this.#options.log.info("took over the running service", { pid });
    return proc;
  }

  /** Sends a signal to the service process; false when there is none or delivery failed. */
  signal(signal: Deno.Signal): boolean {
    const child = this.#child;
    const adopted = this.#adopted;
    if (child === undefined && adopted === undefined) return false;
    try {
      if (child !== undefined) child.kill(signal);
      else if (adopted !== undefined) Deno.kill(adopted.pid, signal);
      return true;
    } catch (err) {
      this.#options.log.error("cannot send signal to service", { signal, err: errorMessage(err) });
      return false;
    }
  }

  /**
   * Stops the service: SIGTERM, up to timeoutMs for it to exit, then SIGKILL to its
   * whole process group (what is left of the group after it exited is killed in any
   * case, see start). Resolves with the exit.
   */
  async stop(timeoutMs: number): Promise<ExitStatus | undefined> {
    const proc = this.#current;
    if (proc === undefined) return undefined;
    const { log } = this.#options;
    this.signal("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const first = await Promise.race([proc.status, timedOut]);
    clearTimeout(timer);
    if (first === "timeout") {
      log.warn("service did not exit after SIGTERM, killing its process group", {
        pid: proc.pid,
        timeout: `${timeoutMs / 1000}s`,
      });
      killGroup(proc.pid);
    }
    return await proc.status;
  }

  /** Sends SIGKILL to the process group of pid (a service and what it started). */
  killGroup(pid: number): void {
    killGroup(pid);
  }

  /**
   * Forwards INT, TERM, HUP, USR1 and USR2 from ysco to the service while the
   * returned handle is not disposed, telling onSignal after each. ysco itself then
   * no longer dies of them: it exits when the service does.
   */
  forwardSignals(onSignal?: (signal: Deno.Signal) => void): Disposable {
    const handlers = FORWARDED_SIGNALS.map((sig) => {
      const handler = () => {
        this.#options.log.debug("forwarding signal to service", { signal: sig });
        this.signal(sig);
        onSignal?.(sig);
      };
      Deno.addSignalListener(sig, handler);
      return [sig, handler] as const;
    });
    return {
      [Symbol.dispose]() {
        for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
      },
    };
  }
}

/** util-linux setsid on Linux, or undefined. */
function findSetsid(): string | undefined {
  if (Deno.build.os !== "linux") return undefined;
  for (const path of ["/usr/bin/setsid", "/bin/setsid"]) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Fails as a spawn of path would when it is missing or not executable (setsid would
 * report that only as its own exit code).
 * @throws Error naming the path
 */
function checkExecutable(path: string): void {
  const info = Deno.statSync(path);
  if (!info.isFile || ((info.mode ?? 0o755) & 0o111) === 0) {
    throw new Deno.errors.PermissionDenied(`Permission denied (os error 13): exec '${path}'`);
  }
}

/**
 * SIGKILL to a process group. Never throws: a group that is gone is the usual case,
 * and a group ysco may not signal (EPERM) has nothing of the service left to kill.
 */
function killGroup(pgid: number): void {
  if (pgid <= 1) return;
  try {
    Deno.kill(-pgid, "SIGKILL");
  } catch {
    // gone already
  }
}
