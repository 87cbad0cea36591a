/**
 * Telling a process apart from a later one with the same pid, so that ysco can find
 * the service it started before it was killed (kill -9, OOM): the pid, plus the
 * kernel's start time of the process and the id of the boot it ran in (Linux
 * /proc). A mark that does not match a live process means that process is gone.
 *
 * @module
 */

import type { ProcessMark } from "../state/state.ts";

/** The mark of a running process; its start is "" where /proc cannot tell. */
export function processMark(pid: number): ProcessMark {
  return { pid, start: startOf(pid) ?? "" };
}

/** Whether the process of mark still runs (a zombie does not): same pid, same start, same boot. */
export function isRunning(mark: ProcessMark): boolean {
  if (mark.pid <= 1 || mark.start === "") return false;
  return startOf(mark.pid) === mark.start;
}

/** "<boot id>/<start time in clock ticks>" of a live process, or undefined. */
function startOf(pid: number): string | undefined {
  let stat: string;
  let boot: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    boot = Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim();
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const start = fields[19];
  if (state === undefined || state === "Z" || state === "X" || start === undefined) {
    return undefined;
  }
  return `${boot}/${start}`;
}

/** Options for stopProcess. */
export interface StopProcessOptions {
  /** How long it may take to exit after SIGTERM before its group is killed, ms. */
  timeoutMs: number;
  /** How often to look, ms. @default 50 */
  intervalMs?: number;
}

/**
 * Stops a process that is not our child (we cannot wait for it): SIGTERM, up to
 * timeoutMs for it to exit, then SIGKILL to its process group; afterwards what is
 * left of the group is killed as well. Resolves once it is gone.
 * @returns whether it had to be killed
 */
export async function stopProcess(
  mark: ProcessMark,
  options: StopProcessOptions,
): Promise<boolean> {
  const interval = options.intervalMs ?? 50;
  if (!isRunning(mark)) return false;
  signal(mark.pid, "SIGTERM");
  const deadline = Date.now() + options.timeoutMs;
  while (isRunning(mark) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, interval));
  }
  const killed = isRunning(mark);
  signal(-mark.pid, "SIGKILL");
  while (isRunning(mark)) await new Promise((r) => setTimeout(r, interval));
  return killed;
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // gone already, or no such group
  }
}
