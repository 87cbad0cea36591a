/**
 * A stand-in for a systemd `.socket` unit with `Restart=always` for tests: holds
 * listening sockets and runs a program with them as fds 3.. and LISTEN_FDS,
 * LISTEN_PID and LISTEN_FDNAMES (through ysco's own shim), starting it again
 * whenever it exits, until the launcher gets SIGTERM (passed on to the program).
 *
 *   deno run -A _socket_launcher.ts ENTRY[,ENTRY...] PROGRAM [ARGS...]
 *
 * ENTRY as in process.listen. Prints "launcher: started PID" and
 * "launcher: exited CODE" on stderr.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a test program reporting on stderr

import { createLogger } from "../../src/log.ts";
import { prepareListenSockets, withInheritedSockets } from "../../src/supervise/listen_sockets.ts";
import { listenEnv, shimCommandLine } from "../../src/supervise/listen_shim.ts";

const [entries = "", program = "", ...args] = Deno.args;
const sockets = await prepareListenSockets({
  entries: entries.split(","),
  cmd: program,
  passed: [],
  log: createLogger({ write: () => {} }),
});
const line = shimCommandLine({ program, args }, sockets.map((s) => s.fd));
let stopping = false;
let child: Deno.ChildProcess | undefined;
Deno.addSignalListener("SIGTERM", () => {
  stopping = true;
  try {
    child?.kill("SIGTERM");
  } catch {
    // gone
  }
});
while (!stopping) {
  const command = new Deno.Command(line.program, {
    args: line.args,
    env: listenEnv(Deno.env.toObject(), sockets.map((s) => s.name)),
    clearEnv: true,
  });
  const started = withInheritedSockets(sockets, () => command.spawn());
  child = started;
  console.error(`launcher: started ${started.pid}`);
  const status = await started.status;
  console.error(`launcher: exited ${status.code}`);
}
Deno.exit(0);
