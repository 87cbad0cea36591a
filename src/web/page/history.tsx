/** @jsxImportSource hono/jsx */
/**
 * The last 20 updates, newest first, with their outcome and reason.
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";
import type { View } from "./view.ts";

/** The section. */
export function History({ v }: { v: View }): JSX.Element {
  const history = v.s.state.history;
  return (
    <section id="history">
      <h2>History</h2>
      {history.length === 0 ? <p>No updates yet.</p> : (
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>What</th>
              <th>From</th>
              <th>To</th>
              <th>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {[...history].reverse().slice(0, 20).map((h) => (
              <tr>
                <td data-label="When">
                  {v.when(h.time)}
                  {h.manual && <span class="muted">{` (manual)`}</span>}
                </td>
                <td data-label="What">{h.which === "self" ? "ysco" : "service"}</td>
                <td data-label="From">{`${h.from.version} ${h.from.goVersion}`}</td>
                <td data-label="To">{`${h.to.version} ${h.to.goVersion}`}</td>
                <td data-label="Outcome" class={h.outcome === "installed" ? "good" : "bad"}>
                  {h.outcome}
                  {h.reason && (
                    <>
                      <br />
                      <span class="muted">{h.reason}</span>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
