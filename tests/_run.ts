/**
 * The test task: builds the Go fixtures once (so parallel test files share them),
 * runs `deno test` over tests/, passes its output through, and prints the plain
 * summary line CI reads ("N passed, N failed[, N skipped]"). Exits with deno's status.
 *
 * Extra arguments go to `deno test` (e.g. a file or `--filter`).
 *
 * @module
 */

// deno-lint-ignore-file no-console -- the test runner reports to the terminal

import { warmCache } from "../world/go.ts";

const log = (line: string) => console.error(`[fixtures] ${line}`);
const t0 = performance.now();
await warmCache(log);
log(`ready in ${Math.round((performance.now() - t0) / 1000)} s`);

const args = Deno.args.length > 0 ? Deno.args : ["tests/"];
const child = new Deno.Command(Deno.execPath(), {
  args: ["test", "--allow-all", "--parallel", ...args],
  stdout: "piped",
  stderr: "inherit",
  env: { NO_COLOR: "1", DENO_JOBS: Deno.env.get("DENO_JOBS") ?? "4" },
}).spawn();

let summary: string | undefined;
let pending = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  pending += decoder.decode(chunk, { stream: true });
  const lines = pending.split("\n");
  pending = lines.pop() ?? "";
  for (const line of lines) summary = summaryOf(line) ?? summary;
}
summary = summaryOf(pending) ?? summary;
const { code } = await child.status;
console.log(summary ?? "0 passed, 1 failed (no summary from deno test)");
Deno.exit(summary === undefined && code === 0 ? 1 : code);

/** "ok | 4 passed (2 steps) | 1 failed | 2 ignored (3s)" -> "4 passed, 1 failed, 2 skipped". */
function summaryOf(line: string): string | undefined {
  const m =
    /^(?:ok|FAILED) \| (\d+) passed(?: \([^)]*\))? \| (\d+) failed(?: \([^)]*\))?(?: \| (\d+) ignored)?/
      .exec(line.trim());
  if (!m) return undefined;
  return `${m[1]} passed, ${m[2]} failed` + (m[3] && m[3] !== "0" ? `, ${m[3]} skipped` : "");
}
