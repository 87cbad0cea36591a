/** @jsxImportSource hono/jsx */
/**
 * Scheduled updates: each with its time, the timer of the next one, and a button to
 * install it now; the backoff after failures; a button to cancel them.
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";
import { formatWait } from "../../decide/timing.ts";
import { CommandForm } from "./command_form.tsx";
import { rolledBackNote } from "./rolled_back.ts";
import type { View } from "./view.ts";

/** The section. */
export function Scheduled({ v }: { v: View }): JSX.Element {
  const { s, d } = v;
  const failures = s.state.backoff;
  const next = s.nextUpdate;
  return (
    <section id="scheduled">
      <h2>Scheduled updates</h2>
      {failures > 0 && (
        <p class="bad">
          {`Backing off after ${failures} failed attempt${
            failures === 1 ? "" : "s"
          }, last error: ${s.state.backoffReason}`}
        </p>
      )}
      {s.state.scheduled.length === 0 ? <p>No updates scheduled.</p> : (
        <>
          <table>
            <thead>
              <tr>
                <th>Which</th>
                <th>Version</th>
                <th>Go</th>
                <th>Not before</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {s.state.scheduled.map((u) => {
                const timer = next !== undefined && next.update.time === u.time &&
                  next.update.version === u.version;
                const note = u.which === "svc"
                  ? rolledBackNote(s.state.history, u.version, u.goVersion, v.when)
                  : undefined;
                return (
                  <tr>
                    <td data-label="Which">{u.which}</td>
                    <td data-label="Version">
                      {u.version}
                      {note && <span class="bad">{` (${note})`}</span>}
                    </td>
                    <td data-label="Go">{u.goVersion}</td>
                    <td data-label="Not before">
                      {v.when(u.time)}
                      {timer && (
                        <>
                          <br />
                          <span class="muted">
                            {`timer: ${v.when(next.at)} (in ${
                              formatWait(Date.parse(next.at) - d.now)
                            })`}
                          </span>
                        </>
                      )}
                    </td>
                    <td>
                      <CommandForm
                        csrf={d.csrf}
                        command="update"
                        label="Update now"
                        fields={{ which: u.which, version: u.version, goversion: u.goVersion }}
                        disabled={v.busy}
                      />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <CommandForm
            csrf={d.csrf}
            command="cancel"
            label="Cancel scheduled updates"
            fields={{ which: "svc" }}
            disabled={v.busy}
          />
        </>
      )}
    </section>
  );
}
