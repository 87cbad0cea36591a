/**
 * `deno task demo`: the main job, on a machine set up with `.ci/setup`, with no
 * internet: `ysco run` supervising a real Go service and updating it.
 *
 * It stands up, on 127.0.0.1, everything ysco talks to (gopherwatch DNS served by
 * dnsmasq, a Go module proxy, a gobuild server whose transparency log holds real
 * builds of the test service), installs the service at v1.0.0, starts ysco, then
 * announces v1.0.1 through DNS and calls ysco's webhook. ysco finds the release,
 * verifies it through the log, installs it and restarts the service, which then
 * answers with the new version. Everything runs in a temporary directory and is
 * removed at the end. `--keep` leaves it running (with the admin URL) until Ctrl-C.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a demo talks to the person running it

import { TEST_PASSWORD } from "../world/service.ts";
import { startWorld } from "../world/world.ts";

const keep = Deno.args.includes("--keep");
const say = (text: string) => console.log(`\n== ${text}`);

say("Standing up gopherwatch DNS, a Go module proxy and a gobuild log on 127.0.0.1");
await using world = await startWorld({ announced: ["v1.0.0"] });
await world.configure('[monitor]\ndelay = "1h"\n[update]\ndelay = "0s"\njitter = "0s"\n');
console.log(
  `service installed in ${world.dir}: testsvc -> ${await Deno.readLink(`${world.dir}/testsvc`)}`,
);

say(
  `Starting: ysco run -addr 127.0.0.1:${world.adminPort} ./testsvc -addr 127.0.0.1:${world.servicePort}`,
);
const ysco = await world.startYsco();
let shown = 0;
const show = () => {
  for (const line of ysco.lines.slice(shown)) console.log(`  ${line.text}`);
  shown = ysco.lines.length;
};
const timer = setInterval(show, 200);
console.log(`the service answers: ${(await world.serviceVersion())?.trim()}`);

say("Publishing v1.0.1 in gopherwatch DNS and calling ysco's webhook (POST /notify)");
await world.announce(["v1.0.1"]);
await fetch(`http://127.0.0.1:${world.adminPort}/notify`, { method: "POST" }).then((r) =>
  r.body?.cancel()
);
await ysco.waitFor(/msg="update (installed|ended)"/, 120_000);
show();
clearInterval(timer);
const answer = (await world.serviceVersion())?.trim();
say(`The service answers: ${answer}`);
const ok = answer?.includes(" v1.0.1 ") ?? false;
console.log(
  ok
    ? "Updated, verified through the transparency log, without a hand on it."
    : "The update did not happen: see the log above.",
);

if (keep) {
  say(
    `Admin interface: http://admin:${TEST_PASSWORD}@127.0.0.1:${world.adminPort}/ (Ctrl-C ends the demo)`,
  );
  const stop = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGINT", () => stop.resolve());
  const tail = setInterval(show, 200);
  await stop.promise;
  clearInterval(tail);
}
Deno.exitCode = ok ? 0 : 1;
