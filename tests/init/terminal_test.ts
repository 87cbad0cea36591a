/**
 * The first five minutes, as a person at a terminal: `ysco init` against gopherwatch
 * DNS, the module proxy and gobuild (the local world), watching the progress bar and
 * the final message, then the printed command, then the admin URL.
 */

import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { TEST_VERIFIER_KEY } from "../../world/gobuild_server.ts";
import { freePort, httpText, poll } from "../../world/process.ts";
import { startTerminal } from "../_tmux.ts";
import { tempDir, YSCO } from "../../world/util.ts";
import { GO, startWorld } from "../../world/world.ts";

Deno.test("a person runs ysco init in a terminal, starts the printed command and opens the admin URL", async () => {
  await using world = await startWorld({ announced: ["v1.0.0", "v1.1.0"] });
  await using dir = await tempDir("ysco-init-");
  const adminAddr = `127.0.0.1:${freePort()}`;
  await using term = await startTerminal({ cwd: dir.path });

  await term.type(
    `${YSCO} init -resolver ${world.dns.address} -goproxy ${world.proxy.url} ` +
      `-gobuildurl ${world.gobuild.tlogUrl} -verifierkey ${TEST_VERIFIER_KEY} ` +
      `-addr ${adminAddr} example.com/testsvc/cmd/testsvc`,
  );
  const [, command, user, password, hostPort] = await term.waitFor(
    /^ {2}(\.\/ysco run .*\.\/testsvc)$[\s\S]*The admin interface will be at http:\/\/([^:]+):([^@]+)@([^/]+)\/$/m,
  );
  const screen = await term.screen();
  // The progress bar, drawn in place, ends full; the plain lines are for non-terminals.
  assertMatch(
    screen,
    new RegExp(`^testsvc-v1\\.1\\.0-${GO} \\[=+\\] 100% {2}5\\.\\d MB of 5\\.\\d MB$`, "m"),
  );
  assert(!screen.includes("downloading testsvc"), screen);
  assertMatch(screen, /^found module example\.com\/testsvc \(dns\), newest release v1\.1\.0, /m);
  assertMatch(screen, new RegExp(`^ {2}testsvc -> testsvc-v1\\.1\\.0-${GO} `, "m"));
  assertMatch(screen, new RegExp(`^ {2}ysco -> ${YSCO}$`, "m"));
  assertEquals([command, user, hostPort], [
    `./ysco run -addr ${adminAddr} ./testsvc`,
    "admin",
    adminAddr,
  ]);
  assertEquals(await Deno.readTextFile(`${dir.path}/ys/password.txt`), `${password}\n`);
  assertEquals(((await Deno.stat(`${dir.path}/ys/password.txt`)).mode ?? 0) & 0o777, 0o600);

  // The service's own flags go at the end, as the message says.
  const servicePort = freePort();
  await term.type(`${command} -addr 127.0.0.1:${servicePort}`);
  assertEquals(
    await poll("the service", () => httpText(`http://127.0.0.1:${servicePort}/`), 30_000),
    `example.com/testsvc v1.1.0 ${GO}\n`,
  );
  const auth = { Authorization: "Basic " + btoa(`${user}:${password}`) };
  const status = await poll(
    "the admin interface",
    () => httpText(`http://${hostPort}/json`, { headers: auth }),
    30_000,
  );
  const json = JSON.parse(status);
  assertEquals([json.SvcModPath, json.SvcVersion, json.SvcGoVersion], [
    "example.com/testsvc",
    "v1.1.0",
    GO,
  ]);
  const denied = await fetch(`http://${hostPort}/json`);
  assertEquals(denied.status, 401);
  await denied.body?.cancel();

  // Ctrl-C stops ysco and the service, back at the prompt.
  await term.press("C-c");
  await term.waitFor(/msg="service (quit|finished|ended)[^\n]*\n\$ ?$/);
});
