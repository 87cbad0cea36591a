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
  assertEquals([status?.code, status?.signal], [0, null]); // testsvc exits 0 on TERM
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
  assertEquals([status?.code, status?.signal], [137, "SIGKILL"]);
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

Deno.test("Supervisor starts the service in a session of its own, through setsid(1) or by forking", async (t) => {
  for (const setsid of [undefined, ""]) {
    await t.step(setsid === "" ? "forked" : "setsid", async () => {
      const { log } = quietLog();
      const cmd = await goBuild({ version: "v1.0.0" });
      const port = freePort();
      const sup = new Supervisor({
        cmd,
        args: ["-addr", `127.0.0.1:${port}`],
        log,
        ...(setsid === undefined ? {} : { setsid }),
      });
      const proc = sup.start();
      const info = JSON.parse(
        await poll("service", () => httpText(`http://127.0.0.1:${port}/info`)),
      );
      assertEquals(info.pid, proc.pid); // setsid exec'd the service: the same process
      const stat = Deno.readTextFileSync(`/proc/${proc.pid}/stat`);
      const [, , pgrp, session] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      assertEquals([Number(pgrp), Number(session)], [proc.pid, proc.pid]);
      await sup.stop(60_000);
    });
  }
});
