/** @jsxImportSource hono/jsx */
/**
 * "Update ysco": ysco's releases from its signed feed, none picked beforehand.
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";
import { CommandFields } from "./command_form.tsx";
import type { View } from "./view.ts";

/** The section, when a release feed is configured. */
export function UpdateSelf({ v }: { v: View }): JSX.Element {
  const { s, d } = v;
  const check = s.lastCheck;
  const versions = check?.selfVersions ?? [];
  return (
    <section id="update-self">
      <h2>Update ysco</h2>
      <p>
        Running ysco <span class="version" id="self-version">{s.self.version}</span>
        {` (${s.self.platform}).`}
        {check?.selfError && (
          <>
            <br />
            <span class="bad">{`Release feed: ${check.selfError}`}</span>
          </>
        )}
      </p>
      {versions.length === 0
        ? <p class="muted">No releases known yet.</p>
        : (
          <form method="post" action="/" class="update">
            <CommandFields csrf={d.csrf} command="update" fields={{ which: "self" }} />
            <fieldset disabled={v.busy}>
              <div class="choices">
                <div>
                  {versions.slice(0, 10).map((x, i) => (
                    <label>
                      <input type="radio" name="version" value={x} required={i === 0} /> {x}
                      {x === s.self.version && <span class="muted">{` (running)`}</span>}
                    </label>
                  ))}
                </div>
              </div>
              <button type="submit" id="update-self-now">Update ysco</button>{" "}
              <span class="muted">The service keeps running.</span>
            </fieldset>
          </form>
        )}
    </section>
  );
}
