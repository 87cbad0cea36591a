/**
 * Fakes for in-process tests of the update cycle: a clock whose time the test moves,
 * a supervisor whose processes exit when the test (or a stop) says so, and a fetcher
 * that hands out real Go binaries of the test service (world/go.ts) the way the
 * gobuild fetcher does, into a temporary file next to the destination. Everything
 * else (the state file, the service path's symlink, the binaries) is real files.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { readBuildInfo } from "../../src/buildinfo/mod.ts";
import { parseConfig } from "../../src/config/parse.ts";
import type { Config } from "../../src/config/config.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import type { State } from "../../src/state/state.ts";
import type { ExitStatus, ServiceProcess } from "../../src/supervise/supervisor.ts";
import type { Clock } from "../../src/update/clock.ts";
import type { ServiceSupervisor } from "../../src/update/lifetime.ts";
import type { Discovery, Fetched, Fetcher, FetchOptions } from "../../src/update/types.ts";
import type { BuildSpec } from "../../src/verify/buildspec.ts";
import { goBuild } from "../../world/go.ts";

/** A clock whose time moves only when the test says so. */
export class FakeClock implements Clock {
  #now: number;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;

  /** @param start the wall-clock time to start at (ms) */
  constructor(start = Date.parse("2026-12-01T10:00:00Z")) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Moves time forward by ms, firing due timers in order (and what they arm). */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await settle();
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.#now = Math.max(this.#now, due[1].at);
      due[1].fn();
    }
    this.#now = end;
    await settle();
  }

  /** Steps the wall clock by ms without any timer noticing (an NTP step, a resume). */
  jump(ms: number): void {
    this.#now += ms;
  }

  /** Elapsed time (ms) until the next timer fires, or undefined when none is armed. */
  get nextTimer(): number | undefined {
    const ats = [...this.#timers.values()].map((t) => t.at);
    return ats.length === 0 ? undefined : Math.min(...ats) - this.#now;
  }
}

/** Lets pending promise callbacks and I/O run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 1));
}

/** A fake service process. */
export interface FakeProcess extends ServiceProcess {
  /** The binary it runs: the service path's target when it started. */
  binary: string;
  /** Ends it with code. */
  exit(code: number): void;
  exited: boolean;
}

/** What a fake process does when started from a binary. */
export type Behaviour = "run" | "exit at once" | "ignore term";

/** A supervisor of fake processes; what starts is read from the service path on disk. */
export class FakeSupervisor implements ServiceSupervisor {
  readonly started: FakeProcess[] = [];
  readonly events: string[] = [];
  #cmd: string;
  #clock: FakeClock;
  #current: FakeProcess | undefined;
  #pid = 1000;
  /** How a process of a binary (by base name) behaves. */
  behaviour = new Map<string, Behaviour>();

  /**
   * @param cmd the service path
   * @param clock the fake clock, for start times
   */
  constructor(cmd: string, clock: FakeClock) {
    this.#cmd = cmd;
    this.#clock = clock;
  }

  get current(): FakeProcess | undefined {
    return this.#current;
  }

  start(): ServiceProcess {
    const binary = basename(Deno.realPathSync(this.#cmd));
    const done = Promise.withResolvers<ExitStatus>();
    const proc: FakeProcess = {
      pid: this.#pid++,
      startedAt: this.#clock.now(),
      status: done.promise,
      binary,
      exited: false,
      exit: (code) => {
        if (proc.exited) return;
        proc.exited = true;
        if (this.#current === proc) this.#current = undefined;
        this.events.push(`exit ${binary} ${code}`);
        done.resolve({ code, signal: null });
      },
    };
    this.started.push(proc);
    this.#current = proc;
    this.events.push(`start ${binary}`);
    if (this.behaviour.get(binary) === "exit at once") queueMicrotask(() => proc.exit(3));
    return proc;
  }

  adopt(pid: number, startedAt: number): ServiceProcess {
    throw new Error(`not faked: adopt(${pid}, ${startedAt})`);
  }

  async stop(_timeoutMs: number): Promise<ExitStatus | undefined> {
    const proc = this.#current;
    if (proc === undefined) return undefined;
    this.events.push(`stop ${proc.binary}`);
    proc.exit(0);
    return await proc.status;
  }

  killGroup(pid: number): void {
    const proc = this.started.find((p) => p.pid === pid);
    proc?.exit(137);
  }
}

/** A fetcher of real test-service binaries, with faults on demand. */
export class FakeFetcher implements Fetcher {
  readonly requests: BuildSpec[] = [];
  /** "block": waits until aborted; "fail": rejects. */
  fault: "block" | "fail" | undefined;
  /** Resolves when a fetch is waiting in "block". */
  blocked = Promise.withResolvers<void>();

  async fetch(
    spec: BuildSpec,
    dest: string,
    modeFrom: string,
    _config: Config,
    options: FetchOptions = {},
  ): Promise<Fetched> {
    this.requests.push(spec);
    const path = join(dirname(dest), `ysco.${basename(dest)}.${"0".repeat(12)}`);
    await Deno.copyFile(await goBuild({ version: spec.version }), path);
    await Deno.chmod(path, (await Deno.stat(modeFrom)).mode ?? 0o755);
    if (this.fault === "fail") {
      await Deno.remove(path);
      throw new Error("Cannot download binary: status 500");
    }
    if (this.fault === "block") {
      this.blocked.resolve();
      await new Promise<void>((_, reject) => {
        const abort = () => reject(options.signal?.reason ?? new Error("aborted"));
        if (options.signal?.aborted) abort();
        options.signal?.addEventListener("abort", abort, { once: true });
      }).catch(async (err) => {
        await Deno.remove(path);
        throw err;
      });
    }
    const bytes = await Deno.readFile(path);
    return {
      path,
      size: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    };
  }
}

/** Discovery answering with fixed versions (newest first) and a current toolchain. */
export function fixedDiscovery(versions: string[], goVersion: string): Discovery {
  return {
    module: (modPath) =>
      Promise.resolve({
        module: modPath,
        method: "dns",
        versions: versions.map((version) => ({
          version,
          prerelease: false,
          pseudo: false,
          incompatible: false,
        })),
        reports: [],
      }),
    toolchains: () =>
      Promise.resolve({
        method: "dns",
        toolchains: { cur: goVersion, prev: "", next: "" },
        times: {},
        reports: [],
      }),
  };
}

/** A configuration for in-process tests: updates at once, no jitter. */
export function testConfig(extra = ""): Config {
  return parseConfig(
    `auth_file = "ys/password.txt"\n[update]\ndelay = "0s"\njitter = "0s"\n[monitor]\ndelay = "1h"\ninterval = "24h"\n${extra}`,
  );
}

/** A logger that keeps its lines. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger({ level: "debug", write: (l) => lines.push(l) }), { lines });
}

/** Every state written, in order, as the state file's writer sees them. */
export function recordingWriter(
  fail?: (state: State) => boolean,
): { states: State[]; write: (dir: string, state: State) => Promise<void> } {
  const states: State[] = [];
  return {
    states,
    write: async (dir, state) => {
      if (fail?.(state)) {
        throw new Error(`Cannot write state file ${dir}/state.json: No space left`);
      }
      const { writeState } = await import("../../src/state/state.ts");
      await writeState(dir, state);
      states.push(structuredClone(state));
    },
  };
}

/** The module version and Go version of a binary. */
export async function releaseOf(path: string): Promise<string> {
  const bi = await readBuildInfo(path);
  return `${bi.main.version} ${bi.goVersion}`;
}
