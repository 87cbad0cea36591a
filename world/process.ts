/**
 * Running real processes in tests: a spawned process whose output is collected
 * line by line and can be waited for (with a deadline, never a fixed sleep), free
 * loopback ports, polling for a condition, and facts from /proc.
 *
 * @module
 */

import { YSCO } from "./util.ts";

/** A running process with its output collected; `await using` kills and reaps it. */
export class Proc implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** Every line of stdout and stderr, in arrival order, with its stream. */
  readonly lines: Array<{ stream: "out" | "err"; text: string }> = [];
  readonly status: Promise<Deno.CommandStatus>;
  #done: Promise<void>;
  #waiters = new Set<() => void>();

  /**
   * @param cmd program to run
   * @param args its arguments
   */
  constructor(
    cmd: string,
    args: string[],
    options: { cwd?: string; env?: Record<string, string> } = {},
  ) {
    this.child = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", ...options.env },
      ...(options.cwd ? { cwd: options.cwd } : {}),
    }).spawn();
    this.#done = Promise.all([
      this.#collect(this.child.stdout, "out"),
      this.#collect(this.child.stderr, "err"),
    ])
      .then(() => {});
    this.status = this.child.status;
  }

  get pid(): number {
    return this.child.pid;
  }

  /** All output as text, for assertion messages. */
  output(): string {
    return this.lines.map((l) => l.text).join("\n");
  }

  /** Waits until a line matches, and returns the match; fails after timeoutMs. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of this.lines.slice(from)) {
        const m = line.text.match(pattern);
        if (m) return m;
      }
      const exited = await Promise.race([
        this.status.then(() => true),
        new Promise<false>((resolve) => {
          const wake = () => {
            this.#waiters.delete(wake);
            clearTimeout(timer);
            resolve(false);
          };
          const timer = setTimeout(wake, Math.max(0, deadline - Date.now()));
          this.#waiters.add(wake);
        }),
      ]);
      if (exited) {
        // The output ends with the process, unless something it started (a service
        // it left behind) holds the pipes: then what arrived must do.
        await this.#outputEnd();
        const m = this.lines.slice(from).map((l) => l.text.match(pattern)).find((x) => x);
        if (m) return m;
        throw new Error(`process exited before printing ${pattern}; output:\n${this.output()}`);
      }
      if (Date.now() >= deadline) {
        throw new Error(`timed out waiting for ${pattern}; output:\n${this.output()}`);
      }
    }
  }

  /** Waits for the output to end, at most 2 s after the exit. */
  async #outputEnd(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2000);
    });
    await Promise.race([this.#done, grace]);
    clearTimeout(timer);
  }

  /** Waits for the exit and for all output. */
  async exit(): Promise<Deno.CommandStatus> {
    const status = await this.status;
    await this.#done;
    return status;
  }

  /** Sends a signal; a process that is gone is fine. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.child.kill(signal);
    } catch {
      // already exited
    }
  }

  /**
   * Stops the process: SIGTERM (ysco then stops its service), SIGKILL after 10 s.
   * Output is awaited only briefly: a killed ysco's service may still hold the pipes.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.kill("SIGKILL");
        resolve();
      }, 10_000);
    });
    await Promise.race([this.status, killed]);
    await this.status;
    clearTimeout(timer);
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2000);
    });
    await Promise.race([this.#done, grace]);
    clearTimeout(timer);
  }

  async #collect(stream: ReadableStream<Uint8Array>, name: "out" | "err"): Promise<void> {
    let pending = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const text of parts) this.lines.push({ stream: name, text });
      for (const wake of [...this.#waiters]) wake();
    }
    if (pending !== "") this.lines.push({ stream: name, text: pending });
    for (const wake of [...this.#waiters]) wake();
  }
}

/** Starts `ysco ARGS` (through bin/ysco, as a user would) in cwd. */
export function startYsco(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Proc {
  return new Proc(YSCO, args, options);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Polls until check returns a value other than undefined; fails after timeoutMs. */
export async function poll<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** GETs a URL and returns the body text when the status is 2xx, else undefined. */
export async function httpText(url: string, init: RequestInit = {}): Promise<string | undefined> {
  try {
    const res = await fetch(url, init);
    const text = await res.text();
    return res.ok ? text : undefined;
  } catch {
    return undefined;
  }
}

/** A process's state letter from /proc/PID/stat ("R", "S", "Z", ...), or undefined when gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** Whether a process is alive: exists and is not a zombie (our PID 1 does not reap orphans). */
export function isAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== "Z" && state !== "X";
}

/** Fields of /proc/PID/status ("Uid", "Groups", "CapAmb", ...). */
export function procStatus(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of Deno.readTextFileSync(`/proc/${pid}/status`).split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/**
 * Live processes of a test's directory: whose command line names a file under dir,
 * whose program is a file under dir, or that run in dir (a service started as
 * `./testsvc` from there).
 */
export function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  const under = (path: string) => path === dir || path.startsWith(`${dir}/`);
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    if (pid === Deno.pid) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
      const cwd = Deno.readLinkSync(`/proc/${pid}/cwd`);
      const exe = Deno.readLinkSync(`/proc/${pid}/exe`);
      if ((cmdline.includes(`${dir}/`) || under(cwd) || under(exe)) && isAlive(pid)) pids.push(pid);
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return pids;
}
