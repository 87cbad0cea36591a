/**
 * The service's lifetime under ysco: starts and stops, and what an exit of the
 * service means. Each process has one role, and the meaning of its exit follows
 * from the role and from whether ysco was told to stop:
 *
 * - ysco received SIGTERM or SIGINT (forwarded to the service): the exit ends ysco
 *   with the service's code, whatever else goes on; nothing is started any more.
 * - stopped for an update: expected, the update goes on.
 * - a new version being watched: the watch fails (the update rolls back).
 * - exit code 0: ysco ends with 0.
 * - the previous version restarted by a rollback, within 5 s: ysco gives up.
 * - otherwise: ysco ends with the service's code (systemd restarts it).
 *
 * @module
 */

import type { Logger } from "../log.ts";
import type { ExitStatus, ServiceProcess, Supervisor } from "../supervise/supervisor.ts";
import type { Clock } from "./clock.ts";

/** A new version that exits within this time after its start failed. */
export const QUICK_EXIT_MS = 5000;

/** Why a process runs: the service as it was, a new version on trial, or the version a rollback restored. */
export type Role = "service" | "new" | "rolled back";

const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = { SIGINT: 2, SIGTERM: 15 };

/** What the lifetime needs of the supervisor (src/supervise/supervisor.ts; a fake in tests). */
export type ServiceSupervisor = Pick<Supervisor, "start" | "adopt" | "stop" | "killGroup">;

/** Options for ServiceLifetime. */
export interface LifetimeOptions {
  supervisor: ServiceSupervisor;
  log: Logger;
  clock: Clock;
  /** The current `update.stop_timeout`, ms. */
  stopTimeout(): number;
  /** Called after each start or adoption, e.g. to record the process. */
  onStart?(proc: ServiceProcess): void;
}

/** The service's lifetime. */
export class ServiceLifetime {
  #o: LifetimeOptions;
  #exit = Promise.withResolvers<number>();
  #ended = false;
  #stop = new AbortController();
  #terminating: Deno.Signal | undefined;
  #proc: ServiceProcess | undefined;
  #roles = new WeakMap<ServiceProcess, Role>();
  #expected = new WeakSet<ServiceProcess>();
  #watchers = new Map<ServiceProcess, (reason: string) => void>();
  /** Exits of new versions that came before their watch began, for the watch. */
  #early = new Map<ServiceProcess, string>();

  /** @param options what it works with */
  constructor(options: LifetimeOptions) {
    this.#o = options;
  }

  /** Resolves with ysco's exit code when the service has quit for good. */
  get exit(): Promise<number> {
    return this.#exit.promise;
  }

  /** Aborted when ysco was told to stop (SIGTERM or SIGINT): updates end at once. */
  get stopSignal(): AbortSignal {
    return this.#stop.signal;
  }

  /** Whether ysco was told to stop. */
  get terminating(): boolean {
    return this.#terminating !== undefined;
  }

  /** The running service process. */
  get current(): ServiceProcess | undefined {
    return this.#proc;
  }

  /**
   * Starts the service in role; undefined when ysco is stopping: then nothing is
   * started and ysco ends.
   */
  start(role: Role): ServiceProcess | undefined {
    if (this.#terminating !== undefined) {
      this.#o.log.info("not starting the service: ysco is stopping", {
        signal: this.#terminating,
      });
      this.#end(128 + (SIGNAL_NUMBERS[this.#terminating] ?? 15));
      return undefined;
    }
    return this.#track(this.#o.supervisor.start(), role);
  }

  /** Takes over the service a replaced ysco started (after a self-update's exec). */
  adopt(pid: number, startedAt: number): ServiceProcess {
    return this.#track(this.#o.supervisor.adopt(pid, startedAt), "service");
  }

  /**
   * Stops the running service for an update (TERM, `update.stop_timeout`, KILL of its
   * group): its exit is expected. Resolves with its exit when it has exited.
   */
  async stop(): Promise<ExitStatus | undefined> {
    const proc = this.#proc;
    if (proc === undefined) return undefined;
    this.#expected.add(proc);
    await this.#o.supervisor.stop(this.#o.stopTimeout());
    return await proc.status;
  }

  /**
   * Watches a new version (started in role "new"): while watched, its exit calls
   * onExit with a description instead of ending ysco; an exit before the watch began
   * is reported at once. Dispose to stop watching: it is the service from then on.
   */
  watch(proc: ServiceProcess, onExit: (reason: string) => void): Disposable {
    const early = this.#early.get(proc);
    if (early !== undefined) {
      this.#early.delete(proc);
      queueMicrotask(() => onExit(early));
    } else {
      this.#watchers.set(proc, onExit);
    }
    return {
      [Symbol.dispose]: () => {
        this.#watchers.delete(proc);
        this.#roles.set(proc, "service");
      },
    };
  }

  /**
   * A signal was forwarded to the service. After SIGTERM or SIGINT its exit ends
   * ysco, also during an update; a service that ignores the signal is killed with its
   * process group after `update.stop_timeout`; with no service running, ysco ends.
   */
  signalled(signal: Deno.Signal): void {
    if (signal !== "SIGTERM" && signal !== "SIGINT") return;
    if (this.#terminating === undefined) this.#terminating = signal;
    this.#stop.abort(new Error(`ysco received ${signal}`));
    const proc = this.#proc;
    if (proc === undefined) {
      this.#o.log.info("stopping while no service runs", { signal });
      this.#end(128 + (SIGNAL_NUMBERS[signal] ?? 15));
      return;
    }
    const timeout = this.#o.stopTimeout();
    const timer = this.#o.clock.setTimeout(() => {
      if (this.#proc !== proc) return;
      this.#o.log.warn("service did not exit after the signal, killing its process group", {
        signal,
        pid: proc.pid,
        timeout: `${timeout / 1000}s`,
      });
      this.#o.supervisor.killGroup(proc.pid);
    }, timeout);
    proc.status.finally(() => this.#o.clock.clearTimeout(timer));
  }

  #track(proc: ServiceProcess, role: Role): ServiceProcess {
    this.#proc = proc;
    this.#roles.set(proc, role);
    proc.status.then((status) => this.#onExit(proc, status));
    this.#o.onStart?.(proc);
    return proc;
  }

  #onExit(proc: ServiceProcess, status: ExitStatus): void {
    if (this.#proc === proc) this.#proc = undefined;
    const log = this.#o.log;
    if (this.#terminating !== undefined) {
      log.info("service ended after a signal to ysco, quitting", {
        signal: this.#terminating,
        exitcode: status.code,
      });
      this.#end(status.code);
      return;
    }
    if (this.#expected.has(proc)) return;
    const described = describeExit(status);
    const watcher = this.#watchers.get(proc);
    if (watcher !== undefined) {
      watcher(`exited ${described}`);
      return;
    }
    if (this.#roles.get(proc) === "new") {
      this.#early.set(proc, `exited ${described}`);
      return;
    }
    if (status.code === 0 && status.startError === undefined) {
      log.info("service finished without error, quitting");
      this.#end(0);
      return;
    }
    const quick = this.#o.clock.now() - proc.startedAt < QUICK_EXIT_MS;
    if (this.#roles.get(proc) === "rolled back" && quick) {
      log.error("service quit within 5s after a rollback, giving up", {
        exitcode: status.code,
        err: described,
      });
      this.#end(status.code);
      return;
    }
    log.error("service quit, so will we", {
      exitcode: status.code,
      ...(status.signal ? { signal: status.signal } : {}),
      ...(status.startError ? { err: status.startError } : {}),
    });
    this.#end(status.code);
  }

  #end(code: number): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#exit.resolve(code);
  }
}

/** "with status 3", "(killed by SIGKILL)", "(could not start: ...)". */
export function describeExit(status: ExitStatus): string {
  if (status.startError !== undefined) return `(could not start: ${status.startError})`;
  if (status.signal) return `(killed by ${status.signal})`;
  return `with status ${status.code}`;
}
