import { assert, assertEquals } from "../_assert.ts";
import { createLogger } from "../../src/log.ts";
import { Supervisor } from "../../src/supervise/supervisor.ts";
import { goBuild } from "../../world/go.ts";
import { freePort, httpText, isAlive, poll } from "../../world/process.ts";

function quietLog() {
  const lines: string[] = [];
  return { log: createLogger({ level: "debug", write: (l) => lines.push(l) }), lines };
}

async function info(port: number): Promise<{ pid: number; child: number; version: string }> {
  return JSON.parse(
    await poll("service answering", () => httpText(`http://127.0.0.1:${port}/info`)),
  );
}

Deno.test("Supervisor.stop() ends a cooperative service with SIGTERM", async () => {
  const port = freePort();
  const { log } = quietLog();
  const sup = new Supervisor({
    cmd: await goBuild({ version: "v1.0.0" }),
    args: ["-addr", `127.0.0.1:${port}`],
    log,
  });
  const proc = sup.start();
  assertEquals((await info(port)).pid, proc.pid);
  const status = await sup.stop(10_000);
  assertEquals(status, { code: 0, signal: null }); // testsvc exits 0 on TERM
  assertEquals(sup.current, undefined);
});

Deno.test("Supervisor.stop() kills a service that ignores SIGTERM, with its whole process group", async () => {
  const port = freePort();
  const { log, lines } = quietLog();
  const sup = new Supervisor({
    cmd: await goBuild({ version: "v1.0.0" }),
    args: ["-addr", `127.0.0.1:${port}`],
    env: { ...Deno.env.toObject(), TESTSVC_IGNORE_TERM: "1", TESTSVC_CHILD: "1" },
    log,
  });
  sup.start();
  const { pid, child } = await info(port);
  assert(child > 0 && isAlive(child), "the service started a child in its process group");
  const status = await sup.stop(300);
  assertEquals(status, { code: 137, signal: "SIGKILL" });
  await poll(
    "the service and its child gone",
    () => !isAlive(pid) && !isAlive(child) ? true : undefined,
  );
  assert(
    lines.some((l) => l.includes("service did not exit after SIGTERM, killing its process group")),
    lines.join(""),
  );
});

Deno.test("Supervisor reports a binary that cannot start as an exit with code 1", async () => {
  const { log } = quietLog();
  const sup = new Supervisor({ cmd: "/nonexistent/service", args: [], log });
  const status = await sup.start().status;
  assertEquals(status.code, 1);
  assert(status.startError?.includes("No such file"), status.startError ?? "no start error");
});
