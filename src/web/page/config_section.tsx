/** @jsxImportSource hono/jsx */
/**
 * The links of the configuration, and the configuration itself: how ysco was
 * started, the host-only keys (shown, not editable here: docs/security.md), the
 * editor of the file, and every key with its default.
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";
import { CommandFields } from "./command_form.tsx";
import { valueAt } from "../../config/key_flags.ts";
import { describeConfig } from "../../config/describe.ts";
import { HOST_ONLY_KEYS } from "../config_save.ts";
import type { View } from "./view.ts";

/** The links section. */
export function Links({ v }: { v: View }): JSX.Element {
  const links = v.s.config.links;
  return (
    <section id="links">
      <h2>Links</h2>
      {links.length === 0 ? <p>No links.</p> : (
        <ul>
          {links.map((l) => (
            <li>
              <a href={l.url}>{l.url}</a> {l.text}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The configuration section. */
export function Configuration({ v }: { v: View }): JSX.Element {
  const { d, s } = v;
  return (
    <section id="configuration">
      <h2>Configuration</h2>
      <p class="muted">
        Started as: <code>{d.argv.join(" ")}</code>
      </p>
      <details id="host-only">
        <summary>Set on the host only</summary>
        <p>
          {"These keys decide what runs commands and what is trusted: the page does not change " +
            `them. Edit ${d.configFile} on the host to change them, then save here or restart ysco.`}
        </p>
        <table>
          <thead>
            <tr>
              <th>Key</th>
              <th>In effect</th>
            </tr>
          </thead>
          <tbody>
            {HOST_ONLY_KEYS.map((key) => (
              <tr>
                <td class="key">{key}</td>
                <td data-label="In effect">
                  <code>{shown(valueAt(s.config, key))}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      <form method="post" action="/">
        <CommandFields csrf={d.csrf} command="saveconfig" />
        <fieldset disabled={v.busy}>
          <label for="config">{d.configFile}</label>
          <textarea id="config" name="config" rows={20} spellcheck={false}>
            {"\n" + d.configText}
          </textarea>
          <button type="submit">Save and apply</button>{" "}
          <span class="muted">
            Checked before saving; applied without restarting the service ([fleet] and [process] at
            the next start of ysco). Keys set on the host only must stay as they are.
          </span>
        </fieldset>
      </form>
      <details>
        <summary>Every key with its default</summary>
        <pre>{describeConfig("annotated")}</pre>
      </details>
    </section>
  );
}

function shown(value: unknown): string {
  if (value === "") return "(not set)";
  if (Array.isArray(value)) return value.length === 0 ? "(none)" : value.join(", ");
  return String(value);
}
