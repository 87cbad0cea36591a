/**
 * Measuring helpers for the benchmarks: wall time and peak resident memory of whole
 * commands (GNU time's %M), repeated, and table printing.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- benchmarks print their tables

/** Median wall time and the largest peak RSS over several runs of one command. */
export interface CommandMeasure {
  medianMs: number;
  minMs: number;
  peakRssKb: number;
}

/** Runs cmd args `runs` times under GNU time; stdout is discarded. */
export async function measureCommand(
  cmd: string,
  args: string[],
  runs: number,
  options: { env?: Record<string, string> } = {},
): Promise<CommandMeasure> {
  const times: number[] = [];
  let peak = 0;
  const stats = await Deno.makeTempFile();
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const out = await new Deno.Command("/usr/bin/time", {
        args: ["-f", "%M", "-o", stats, cmd, ...args],
        stdout: "null",
        stderr: "piped",
        ...(options.env ? { env: options.env } : {}),
      }).output();
      times.push(performance.now() - t0);
      if (!out.success) {
        throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
      }
      peak = Math.max(peak, parseInt(await Deno.readTextFile(stats), 10));
    }
  } finally {
    await Deno.remove(stats);
  }
  times.sort((a, b) => a - b);
  return {
    medianMs: times[Math.floor(times.length / 2)] ?? 0,
    minMs: times[0] ?? 0,
    peakRssKb: peak,
  };
}

/** A command to time: program, arguments, and environment additions. */
export interface TimedCommand {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
}

/**
 * Median wall time in ms of each command over `runs` rounds, the commands taking
 * turns within each round, so that a machine's changing load reaches all alike.
 * prepare (e.g. emptying a cache) runs before each command and is not timed.
 */
export async function measureInterleaved(
  commands: Array<TimedCommand & { prepare?: () => Promise<void> }>,
  runs: number,
): Promise<number[]> {
  const times = commands.map(() => [] as number[]);
  for (let round = 0; round < runs; round++) {
    for (const [i, c] of commands.entries()) {
      await c.prepare?.();
      const t0 = performance.now();
      const out = await new Deno.Command(c.cmd, {
        args: c.args,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
        ...(c.env ? { env: c.env } : {}),
      }).output();
      times[i]?.push(performance.now() - t0);
      if (!out.success) {
        const err = new TextDecoder().decode(out.stderr);
        throw new Error(`Cannot time ${c.cmd} ${c.args.join(" ")}: status ${out.code}: ${err}`);
      }
    }
  }
  return times.map((ts) => median(ts));
}

/** The median of numbers (the upper one of an even count). */
export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
}

/** Prints rows as an aligned table with a header. */
export function printTable(
  title: string,
  header: string[],
  rows: Array<Array<string | number>>,
): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  console.log(`\n${title}`);
  for (const [n, r] of cells.entries()) {
    console.log(
      "  " +
        r.map((c, i) => i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)).join("  "),
    );
    if (n === 0) console.log("  " + widths.map((w) => "-".repeat(w)).join("  "));
  }
}

/** "PASS" or "FAIL" with the figure and the target. */
export function verdict(ok: boolean, what: string): string {
  return `${ok ? "PASS" : "FAIL"}: ${what}`;
}
