/** @jsxImportSource hono/jsx */
/**
 * The fleet section: this host's part (connected, waiting or holding a slot), the
 * alert gate, the halted versions with a Resume button, and every host of the group
 * with its version, health, role and what it is doing, the slot holders and the queue.
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";
import { formatDuration } from "../../duration.ts";
import { formatAlerts } from "../../fleet/alert_watch.ts";
import type { GateStatus } from "../../fleet/gate.ts";
import type { FleetStatus, HostStatus } from "../../fleet/status.ts";
import type { FleetGroupView } from "../fleet_group.ts";
import { CommandForm } from "./command_form.tsx";
import type { View } from "./view.ts";

/** The section. */
export function Fleet({ v, f }: { v: View; f: GateStatus }): JSX.Element {
  const group = v.d.fleetGroup;
  const g = group?.status;
  const halted = g?.targets.filter((t) => t.halt !== undefined) ?? [];
  // The halt as this host saw it while waiting, when the group cannot be read.
  const w = f.waiting;
  const own = w?.halt && !halted.some((t) => t.version === w.version && t.goVersion === w.goVersion)
    ? [{ version: w.version, goVersion: w.goVersion, halt: w.halt }]
    : [];
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return (
    <section id="fleet">
      <h2>Fleet</h2>
      <p>
        Group <strong>{f.group}</strong>, this host <strong>{f.id}</strong>
        {` (${f.backend}): `}
        {f.connected ? <span class="good">connected</span> : (
          <span class="bad">
            {`not connected${
              f.error
                ? `: ${f.error.message} (since ${
                  v.when(f.error.since.toISOString())
                }); no update is installed until it is back`
                : ""
            }`}
          </span>
        )}.
      </p>
      {w && (
        <p class={w.halt ? "bad" : ""}>
          {`Waiting to install ${w.version} ${w.goVersion} since ${
            v.when(w.since.toISOString())
          }: ${w.reason}`}
        </p>
      )}
      {f.alerts && (
        <p class={f.alerts.state === "clear" ? "" : "bad"}>
          {`${formatAlerts(f.alerts)}${
            f.alerts.checkedAt ? ` (checked ${v.when(f.alerts.checkedAt.toISOString())})` : ""
          }.`}
        </p>
      )}
      {f.holding && (
        <p>
          {`Holding a slot for ${f.holding.version} ${f.holding.goVersion} since ${
            v.when(f.holding.since.toISOString())
          }.`}
        </p>
      )}
      {[...halted, ...own].map((t) =>
        t.halt && (
          <div class="banner paused halt">
            <p>
              Halted: <strong>{`${t.version} ${t.goVersion}`}</strong>
              {(t.halt.alert
                ? ` was halted by the alert ${t.halt.alert} during the canary soak on ${t.halt.by} at ${
                  v.when(t.halt.at)
                }. `
                : ` was rolled back on ${t.halt.by} at ${v.when(t.halt.at)}: ${t.halt.reason}. `) +
                "No host of the group installs it until it is resumed."}
            </p>
            <CommandForm
              csrf={v.d.csrf}
              command="fleetresume"
              label={`Resume ${t.version}`}
              fields={{ version: t.version, goversion: t.goVersion }}
            />
          </div>
        )
      )}
      {g && <Group v={v} f={f} g={g} group={group} />}
      {group?.error && <p class="bad">{`Reading the group from etcd: ${group.error}`}</p>}
      <p class="muted">
        {`${plural(f.counters.slots, "slot")} taken, ${
          plural(f.counters.halts, "halt")
        } by this host. `}
        <code>ysco fleet status</code> shows the same from a shell.
      </p>
    </section>
  );
}

function Group(
  { v, f, g, group }: { v: View; f: GateStatus; g: FleetStatus; group: FleetGroupView },
): JSX.Element {
  const held = g.queue.filter((q) => q.holdsSlot);
  const queued = g.queue.filter((q) => !q.holdsSlot);
  const slots = `${held.length} of ${g.maxConcurrent} slot${g.maxConcurrent === 1 ? "" : "s"}`;
  const holders = held.length > 0
    ? ` (${held.map((q) => `${q.id}: ${q.version} ${q.goVersion}`).join(", ")})`
    : "";
  const queue = queued.length > 0 ? `, queue: ${queued.map((q) => q.id).join(", ")}` : "";
  const canaries = `canar${g.canaries.length === 1 ? "y" : "ies"} ${
    g.canaries.length > 0 ? g.canaries.join(", ") : "none"
  }`;
  const activity = (h: HostStatus) =>
    h.updating
      ? `updating to ${h.updating.version} ${h.updating.goVersion} since ${
        v.when(h.updating.since)
      }`
      : h.waiting
      ? `waiting for ${h.waiting.version} ${h.waiting.goVersion} since ${v.when(h.waiting.since)}`
      : "";
  return (
    <>
      <p>
        {`${g.hosts.length} host${
          g.hosts.length === 1 ? "" : "s"
        }; ${slots} taken${holders}${queue}; ${canaries}, soak ${formatDuration(g.soak)}.`}
      </p>
      <table class="fleet-hosts">
        <thead>
          <tr>
            <th>Host</th>
            <th>Version</th>
            <th>Go</th>
            <th>Healthy</th>
            <th>Role</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {g.hosts.map((h) => (
            <tr>
              <td data-label="Host">
                {h.id}
                {h.id === f.id && <span class="muted">{` (this host)`}</span>}
              </td>
              <td data-label="Version">{h.version}</td>
              <td data-label="Go">{h.goVersion}</td>
              <td data-label="Healthy" class={h.healthy ? "good" : "bad"}>
                {h.healthy ? "yes" : "no"}
              </td>
              <td data-label="Role">
                {[h.canary ? "canary" : h.paused ? "paused" : "", h.holdsSlot ? "slot" : ""]
                  .filter((x) => x !== "").join(", ")}
              </td>
              <td data-label="State">
                {activity(h)}
                {h.lastError && (
                  <>
                    <br />
                    <span class="bad">{h.lastError}</span>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {g.targets.filter((t) => t.soaked.length > 0).map((t) => (
        <p class="muted">
          {`${t.version} ${t.goVersion} ran its soak on ${t.soaked.join(", ")}.`}
        </p>
      ))}
      <p class="muted">
        {`Read from etcd at revision ${g.revision}${
          group.readAt ? `, ${v.when(new Date(group.readAt).toISOString())}` : ""
        }.`}
      </p>
    </>
  );
}
