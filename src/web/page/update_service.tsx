/** @jsxImportSource hono/jsx */
/**
 * "Update the service": a version and a Go version to pick from what the last check
 * found, and any other version typed in. No version is picked beforehand (the
 * running release is not an update), and versions that were rolled back are marked.
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";
import { CommandFields } from "./command_form.tsx";
import { isPrerelease } from "../../version/semver.ts";
import { rolledBackNote } from "./rolled_back.ts";
import { tagUrl } from "./tag_url.ts";
import type { View } from "./view.ts";

/** The section. */
export function UpdateService({ v }: { v: View }): JSX.Element {
  const { s, d } = v;
  const svc = s.svc;
  const tc = s.lastCheck?.toolchains?.toolchains;
  const versions = [
    ...new Set([svc.version, ...(s.lastCheck?.svc?.versions ?? []).map((x) => x.version)]),
  ];
  const goVersions = [
    ...new Set([svc.goVersion, tc?.cur, tc?.prev, tc?.next].filter((x): x is string => !!x)),
  ];
  const goNote = (g: string) =>
    g === tc?.cur
      ? " (current)"
      : g === tc?.prev
      ? " (previous)"
      : g === tc?.next
      ? " (next, prerelease)"
      : "";
  return (
    <section id="update-service">
      <h2>Update the service</h2>
      <form method="post" action="/" class="update">
        <CommandFields csrf={d.csrf} command="update" fields={{ which: "svc" }} />
        <fieldset disabled={v.busy}>
          <div class="choices">
            <div>
              <h3>Version</h3>
              {versions.map((x, i) => {
                const note = rolledBackNote(s.state.history, x, "", v.when);
                const url = tagUrl(svc.modPath, x);
                return (
                  <label>
                    <input type="radio" name="version" value={x} required={i === 0} /> {x}
                    {x === svc.version && <span class="muted">{` (running)`}</span>}
                    {isPrerelease(x) && <span class="muted">{` (prerelease)`}</span>}
                    {note && <span class="bad rolled-back">{` (${note})`}</span>}
                    {url && (
                      <>
                        {" "}
                        <a href={url} title="Guessed URL for the tag, may have release notes">
                          tag
                        </a>
                      </>
                    )}
                  </label>
                );
              })}
            </div>
            <div>
              <h3>Go</h3>
              {goVersions.map((g) => (
                <label>
                  <input
                    type="radio"
                    name="goversion"
                    value={g}
                    checked={g === svc.goVersion}
                    required={g === svc.goVersion}
                  />{" "}
                  {g}
                  {g === svc.goVersion && <span class="muted">{` (running)`}</span>}
                  <span class="muted">{goNote(g)}</span>
                </label>
              ))}
            </div>
          </div>
          <button type="submit" id="update-now">Update now</button>
        </fieldset>
      </form>
      <details>
        <summary>Other version</summary>
        <form method="post" action="/" class="update" id="other-version">
          <CommandFields csrf={d.csrf} command="update" fields={{ which: "svc" }} />
          <fieldset disabled={v.busy}>
            <label>
              Version <input name="version" placeholder="v1.2.3" required />
            </label>
            <label>
              Go version <input name="goversion" value={svc.goVersion} required />
            </label>
            <button type="submit">Update now</button>
          </fieldset>
        </form>
      </details>
    </section>
  );
}
