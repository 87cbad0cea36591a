/** @jsxImportSource hono/jsx */
/**
 * A form of one button that posts a command to `/` with the page's token, and the
 * hidden fields that every form of the page carries.
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";

/** The form's properties. */
export interface CommandFormProps {
  csrf: string;
  command: string;
  label: string;
  /** More fields (which, version, goversion). */
  fields?: Record<string, string>;
  disabled?: boolean;
}

/** The form. */
export function CommandForm(p: CommandFormProps): JSX.Element {
  return (
    <form method="post" action="/" class="inline">
      <CommandFields csrf={p.csrf} command={p.command} fields={p.fields ?? {}} />
      <button type="submit" disabled={p.disabled ?? false}>{p.label}</button>
    </form>
  );
}

/** The hidden fields of every form of the page: the token, the command and more. */
export function CommandFields(
  p: { csrf: string; command: string; fields?: Record<string, string> },
): JSX.Element {
  return (
    <>
      <input type="hidden" name="csrf" value={p.csrf} />
      <input type="hidden" name="command" value={p.command} />
      {Object.entries(p.fields ?? {}).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
    </>
  );
}
