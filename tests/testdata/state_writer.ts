// Writes states to the directory in Deno.args[0] as fast as it can, forever, each
// internally consistent (backoffReason repeats the counter), for the crash test.
import { emptyState, writeState } from "../../src/state/state.ts";

const dir = Deno.args[0] ?? ".";
for (let i = 1;; i++) {
  await writeState(dir, {
    ...emptyState(),
    backoff: i,
    backoffReason: String(i).repeat(1000 + (i % 50) * 1000),
  });
}
