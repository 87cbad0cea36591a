/**
 * ysco's metrics: the original's `ysco_*` set with the same names and meanings
 * (with `ysco_update_errors_total` counting failed automatic updates, as its
 * documentation says and the original did not), plus an update duration
 * histogram, outcomes, discovery freshness and the standard process metrics.
 *
 * @module
 */

import type { GateStatus } from "../fleet/gate.ts";
import { type Counter, type Gauge, type Histogram, Registry } from "./registry.ts";

/** Every metric ysco exports. */
export interface YscoMetrics {
  registry: Registry;
  tlogSecurityErrors: Counter;
  monitorErrors: Counter;
  downloadErrors: Counter;
  updateErrors: Counter;
  updatesPaused: Gauge;
  serviceUpdateAvailable: Gauge;
  serviceNewerVersionAvailable: Gauge;
  serviceNewerGoVersionAvailable: Gauge;
  serviceNewMajorAvailable: Gauge;
  serviceUpdateScheduled: Gauge;
  serviceRollbacks: Counter;
  selfUpdateAvailable: Gauge;
  selfNewerVersionAvailable: Gauge;
  selfNewerGoVersionAvailable: Gauge;
  selfUpdateScheduled: Gauge;
  serviceVersion: Gauge;
  serviceGoVersion: Gauge;
  serviceModulePath: Gauge;
  selfVersion: Gauge;
  updates: Counter;
  updateDuration: Histogram;
  lastCheck: Gauge;
  lastCheckSuccess: Gauge;
  stateWriteErrors: Counter;
  internalErrors: Counter;
  adminAuthFailures: Counter;
}

/** The counter of failed admin logins (the admin app makes an unregistered one when not given it). */
export const ADMIN_AUTH_FAILURES = {
  name: "ysco_admin_auth_failures_total",
  help: "Failed logins to the admin interface (wrong user or password); alert on a rate.",
} as const;

/** Creates the registry with every metric at its initial value. */
export function createYscoMetrics(): YscoMetrics {
  const r = new Registry();
  const m: YscoMetrics = {
    registry: r,
    tlogSecurityErrors: r.counter(
      "ysco_tlog_security_errors_total",
      "Transparency log misbehaviour detected: a signed tree that is not an extension of the stored one, or records the log cannot prove.",
    ),
    monitorErrors: r.counter(
      "ysco_monitor_errors_total",
      "Failed lookups of module versions or toolchains, per method attempt.",
    ),
    downloadErrors: r.counter(
      "ysco_download_errors_total",
      "Failed lookups or downloads of binaries from gobuild.",
    ),
    stateWriteErrors: r.counter(
      "ysco_state_write_errors_total",
      "Failed writes of the state file (a full disk, a read-only file system).",
    ),
    internalErrors: r.counter(
      "ysco_internal_errors_total",
      "Errors no part of ysco handled (unhandled promise rejections): a bug, logged at ERROR.",
    ),
    updateErrors: r.counter("ysco_update_errors_total", "Failed automatic (scheduled) updates."),
    updatesPaused: r.gauge(
      "ysco_updates_paused",
      "Whether automatic updates are paused (1) or not (0).",
    ),
    serviceUpdateAvailable: r.gauge(
      "ysco_service_update_available",
      "Whether an update of the service that matches the policies is available.",
    ),
    serviceNewerVersionAvailable: r.gauge(
      "ysco_service_newer_version_available",
      "Whether a newer module version of the service exists, whatever the policy.",
    ),
    serviceNewerGoVersionAvailable: r.gauge(
      "ysco_service_newer_goversion_available",
      "Whether a newer Go toolchain than the service's exists.",
    ),
    serviceNewMajorAvailable: r.gauge(
      "ysco_service_new_major_available",
      "Whether a new major version (a /vN module) of the service exists; never installed automatically.",
    ),
    serviceUpdateScheduled: r.gauge(
      "ysco_service_update_scheduled",
      "Number of scheduled updates of the service.",
    ),
    serviceRollbacks: r.counter(
      "ysco_service_update_rollback_total",
      "Rollbacks of the service after a new version exited quickly or failed its health check.",
    ),
    selfUpdateAvailable: r.gauge(
      "ysco_self_update_available",
      "Whether an update of ysco that matches the policies is available.",
    ),
    selfNewerVersionAvailable: r.gauge(
      "ysco_self_newer_version_available",
      "Whether a newer version of ysco exists.",
    ),
    selfNewerGoVersionAvailable: r.gauge(
      "ysco_self_newer_goversion_available",
      "Whether a newer toolchain for ysco exists (always 0: ysco is not a Go program).",
    ),
    selfUpdateScheduled: r.gauge(
      "ysco_self_update_scheduled",
      "Number of scheduled updates of ysco.",
    ),
    serviceVersion: r.gauge(
      "ysco_service_version",
      "Module version of the running service, as label.",
    ),
    serviceGoVersion: r.gauge(
      "ysco_service_goversion",
      "Go toolchain of the running service, as label.",
    ),
    serviceModulePath: r.gauge("ysco_service_module_path", "Module path of the service, as label."),
    selfVersion: r.gauge("ysco_self_version", "Version of ysco, as label."),
    updates: r.counter(
      "ysco_updates_total",
      "Finished updates by which (svc, self) and outcome (installed, rolled back, failed, cancelled).",
    ),
    updateDuration: r.histogram(
      "ysco_update_duration_seconds",
      "Time from the start of an update (download) to its end (healthy, rolled back or failed).",
      [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    ),
    lastCheck: r.gauge(
      "ysco_monitor_last_check_timestamp_seconds",
      "When the last check for updates ran (Unix time).",
    ),
    lastCheckSuccess: r.gauge(
      "ysco_monitor_last_success_timestamp_seconds",
      "When a check for updates last succeeded (Unix time); alert when it is old.",
    ),
    adminAuthFailures: r.counter(ADMIN_AUTH_FAILURES.name, ADMIN_AUTH_FAILURES.help),
  };
  addProcessMetrics(r);
  return m;
}

/**
 * The `ysco_fleet_*` metrics, read from the fleet gate's status at each scrape:
 * whether coordination works, whether this host holds or waits for a slot (and if
 * the version it waits for is halted), and counters of slots, waiting time, halts,
 * failed and sent requests, and the alert gate's state. Registered only when `[fleet]`
 * is configured (the alert metrics only with fleet.alerts_url).
 */
export function addFleetMetrics(r: Registry, status: () => GateStatus): void {
  const connected = r.gauge(
    "ysco_fleet_connected",
    "Whether the last request to etcd (or the FleetLock server) succeeded (1) or not (0); while 0, no update is installed.",
  );
  const held = r.gauge(
    "ysco_fleet_slot_held",
    "Whether this host holds a fleet slot, installing an update (1) or not (0).",
  );
  const waiting = r.gauge(
    "ysco_fleet_waiting",
    "Whether this host waits for a fleet slot for a due update (1) or not (0).",
  );
  const halted = r.gauge(
    "ysco_fleet_waiting_halted",
    "Whether the version this host waits for is halted by a rollback elsewhere (1) or not (0); `ysco fleet resume` lifts it.",
  );
  const slots = r.counter("ysco_fleet_slots_total", "Fleet slots this host took.");
  const wait = r.counter(
    "ysco_fleet_wait_seconds_total",
    "Time this host spent waiting for fleet slots, including a wait in progress.",
  );
  const halts = r.counter(
    "ysco_fleet_halts_total",
    "Rollbacks on this host that halted a version for the whole group.",
  );
  const errors = r.counter(
    "ysco_fleet_errors_total",
    "Failed requests to etcd (or the FleetLock server).",
  );
  const requests = r.counter(
    "ysco_fleet_requests_total",
    "Requests sent to etcd (or the FleetLock server).",
  );
  // The alert gate's metrics, when fleet.alerts_url is set.
  const alerts = status().alerts === undefined ? undefined : {
    firing: r.gauge(
      "ysco_fleet_alerts_firing",
      "Matching alerts firing at fleet.alerts_url at the last query; while above 0, no fleet slot is taken.",
    ),
    up: r.gauge(
      "ysco_fleet_alerts_up",
      "Whether the last query of fleet.alerts_url succeeded (1) or not (0); while 0, no fleet slot is taken.",
    ),
    halts: r.counter(
      "ysco_fleet_alert_halts_total",
      "Versions this host halted for the group because an alert began during its canary soak.",
    ),
  };
  // The gate counts from its start; counters only go up, so add what is new.
  const seen = new Map<Counter, number>();
  const follow = (c: Counter, value: number) => {
    const delta = value - (seen.get(c) ?? 0);
    if (delta > 0) {
      c.inc({}, delta);
      seen.set(c, value);
    }
  };
  r.onCollect(() => {
    const s = status();
    connected.set(s.connected ? 1 : 0);
    held.set(s.holding ? 1 : 0);
    waiting.set(s.waiting ? 1 : 0);
    halted.set(s.waiting?.halt ? 1 : 0);
    follow(slots, s.counters.slots);
    follow(wait, s.counters.waitMs / 1000);
    follow(halts, s.counters.halts);
    follow(errors, s.counters.errors);
    follow(requests, s.counters.requests);
    if (alerts && s.alerts) {
      alerts.firing.set(s.alerts.firing.length);
      alerts.up.set(s.alerts.state === "unknown" ? 0 : 1);
      follow(alerts.halts, s.counters.alertHalts);
    }
  });
}

/** The standard process_* metrics, read from /proc at each scrape (Linux) or Deno otherwise. */
function addProcessMetrics(r: Registry): void {
  const rss = r.gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  const cpu = r.counter(
    "process_cpu_seconds_total",
    "Total user and system CPU time spent in seconds.",
  );
  const start = r.gauge(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
  );
  const fds = r.gauge("process_open_fds", "Number of open file descriptors.");
  const startSeconds = processStartSeconds();
  let cpuSeen = 0;
  r.onCollect(() => {
    rss.set(Deno.memoryUsage().rss);
    start.set(startSeconds);
    try {
      const stat = Deno.readTextFileSync("/proc/self/stat");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const seconds = (Number(f[11]) + Number(f[12])) / 100;
      if (seconds > cpuSeen) cpu.inc({}, seconds - cpuSeen);
      cpuSeen = Math.max(cpuSeen, seconds);
      let n = 0;
      for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
      fds.set(n);
    } catch {
      // Not Linux: no CPU time or descriptor count.
    }
  });
}

function processStartSeconds(): number {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const startTicks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    const boot = /^btime (\d+)$/m.exec(Deno.readTextFileSync("/proc/stat"))?.[1];
    if (boot !== undefined && Number.isFinite(startTicks)) return Number(boot) + startTicks / 100;
  } catch {
    // Not Linux.
  }
  return Math.floor(Date.now() / 1000 - performance.now() / 1000);
}
