/**
 * `ysco fleet status [-json] [-dir DIR]` and `ysco fleet resume [-dir DIR] [VERSION]`:
 * the state of this host's rollout group in etcd, and lifting halts after a
 * rollback. Both read `[fleet]` from DIR/ysco.toml.
 *
 * @module
 */

import { join } from "node:path";
import { parseConfig } from "../config/parse.ts";
import { errorMessage, UsageError } from "../errors.ts";
import { alertSource, connectEtcd, fleetBackend, type FleetConfig } from "../fleet/mod.ts";
import { type AlertsStatus, AlertWatch, formatAlerts } from "../fleet/alert_watch.ts";
import { formatTarget } from "../fleet/layout.ts";
import {
  formatFleetStatus,
  formatStatusSource,
  readFleetStatusAnyway,
  resumeFleet,
} from "../fleet/status.ts";
import type { Command, Io } from "./command.ts";
import { formatFlags, parseFlags } from "./flags.ts";

const STATUS_FLAGS = {
  json: { type: "boolean", help: "print the status as one JSON object" },
  dir: { type: "string", help: "directory with ysco.toml", value: "DIR", default: "ys" },
} as const;

/** Time limit of one request to one etcd member: an operator is waiting. */
const STATUS_TIMEOUT_MS = 3000;

const RESUME_FLAGS = {
  dir: STATUS_FLAGS.dir,
} as const;

/** The fleet command. */
export const fleetCommand: Command = {
  name: "fleet",
  usage: `usage: ysco fleet status [-json] [-dir DIR]
       ysco fleet resume [-dir DIR] [VERSION]

Shows and steers the staged rollout of this host's group, coordinated through the
etcd cluster in [fleet] of DIR/ysco.toml.

status: the hosts of the group with their versions, health and what they are
doing, the slot holders and the queue, the canaries, soak marks and halts, and
the alerts of fleet.alerts_url. Without an etcd quorum it reads the group from
any member that answers and says so ("no quorum: read from member X, may be
stale").

resume: lifts the halt a rollback put on VERSION (a module version, or
"VERSION GOVERSION" for one build), or on every halted version when VERSION is
absent, so that hosts install it again.

flags:
${formatFlags(STATUS_FLAGS)}`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === "status") return await status(rest, io);
    if (sub === "resume") return await resume(rest, io);
    if (sub === undefined) throw new UsageError("missing subcommand: status or resume");
    if (sub.startsWith("-")) {
      // Let -h/--help print the usage.
      parseFlags([sub], {});
    }
    throw new UsageError(`unknown subcommand "${sub}"; use status or resume`);
  },
};

async function status(args: string[], io: Io): Promise<number> {
  const { flags, rest } = parseFlags(args, STATUS_FLAGS, { stopAtOperand: false });
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const fleet = await readFleetConfig(flags.dir, io);
  if (fleet === undefined) return 1;
  await using client = await connectEtcd(fleet, { requestTimeout: STATUS_TIMEOUT_MS });
  const { status: s, source } = await readFleetStatusAnyway(client, {
    group: fleet.group,
    maxConcurrent: fleet.max_concurrent,
    canaries: fleet.canaries,
    soak: fleet.soak,
  });
  const alerts = await queryAlerts(fleet);
  io.out(
    flags.json
      ? JSON.stringify({ ...s, etcd: source, ...(alerts ? { alerts } : {}) }, null, 2) + "\n"
      : formatStatusSource(source) + formatFleetStatus(s) +
        (alerts ? `\n${formatAlerts(alerts)}\n` : ""),
  );
  return 0;
}

/** The alert gate's state now, when fleet.alerts_url is set. */
async function queryAlerts(fleet: FleetConfig): Promise<AlertsStatus | undefined> {
  const source = alertSource(fleet);
  if (source === undefined) return undefined;
  const watch = new AlertWatch(source, { interval: 0 });
  await watch.check();
  return watch.status();
}

async function resume(args: string[], io: Io): Promise<number> {
  const { flags, rest } = parseFlags(args, RESUME_FLAGS, { stopAtOperand: false });
  if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`);
  const fleet = await readFleetConfig(flags.dir, io);
  if (fleet === undefined) return 1;
  await using client = await connectEtcd(fleet);
  const version = rest[0];
  const removed = await resumeFleet(client, fleet.group, version);
  if (removed.length === 0) {
    io.err(
      `ysco fleet resume: no halt ${
        version === undefined ? "" : `for "${version}" `
      }in group ${fleet.group}\n`,
    );
    return 1;
  }
  for (const h of removed) {
    io.out(`resumed ${formatTarget(h)} in group ${fleet.group} (halted by ${h.by}: ${h.reason})\n`);
  }
  return 0;
}

/** The [fleet] table of DIR/ysco.toml, when it configures etcd; otherwise says why and returns undefined. */
async function readFleetConfig(dir: string, io: Io): Promise<FleetConfig | undefined> {
  const file = join(dir, "ysco.toml");
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    throw new Error(`Cannot read configuration "${file}": ${errorMessage(err)}`);
  }
  const { fleet } = parseConfig(text, file, { partial: true });
  const backend = fleetBackend(fleet);
  if (backend === "etcd") return fleet;
  io.err(
    backend === "fleetlock"
      ? `ysco fleet: ${file} uses a FleetLock server (fleet.fleetlock_url); its state is kept there\n`
      : `ysco fleet: ${file} has no fleet.etcd endpoints; fleet coordination is off\n`,
  );
  return undefined;
}
