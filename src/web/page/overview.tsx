/** @jsxImportSource hono/jsx */
/**
 * The top of the page: the service and its version, banners (an update in progress,
 * paused updates, configuration warnings, settings waiting for a restart), the check
 * and pause buttons, the last check and the policy's decision.
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";
import { CommandForm } from "./command_form.tsx";
import type { View } from "./view.ts";

/** The service line of the header. */
export function Header({ v }: { v: View }): JSX.Element {
  const { s } = v;
  return (
    <header>
      <h1>
        ysco <small>managed automated updates</small>
      </h1>
      <p class="service">
        <strong>{s.svc.path}</strong> <span class="version" id="svc-version">{s.svc.version}</span>
        {" "}
        <span class="version">{s.svc.goVersion}</span> {s.pid
          ? <span class="muted">{`pid ${s.pid}, up since ${v.when(s.startedAt ?? "")}`}</span>
          : <span class="bad">not running</span>}
      </p>
    </header>
  );
}

/** Banners for what needs attention. */
export function Banners({ v }: { v: View }): JSX.Element {
  const { s, d } = v;
  const b = s.busy;
  return (
    <>
      {b && (
        <p class="banner busy">
          {`Updating to ${b.version} ${b.goVersion}: ${b.phase}. This page refreshes until it is done.`}
        </p>
      )}
      {s.state.pauseReason !== "" && (
        <div class="banner paused">
          <p>{`Automatic updates are paused: ${s.state.pauseReason}`}</p>
          <CommandForm csrf={d.csrf} command="unpause" label="Unpause updates" />
        </div>
      )}
      {d.warnings.map((w) => <p key={w} class="banner warning">{`Warning: ${w}`}</p>)}
      {d.pendingRestart.length > 0 && (
        <p class="banner warning" id="pending-restart">
          {`Changed since ysco started, applies at the next restart of ysco: ${
            d.pendingRestart.join(", ")
          }.`}
        </p>
      )}
    </>
  );
}

/** The check and pause buttons, and what the last check found. */
export function Checks({ v }: { v: View }): JSX.Element {
  const { s, d } = v;
  const check = s.lastCheck;
  const next = s.nextCheck ? ` ${check ? "Next" : "First"} check ${v.when(s.nextCheck)}.` : "";
  return (
    <section>
      <div class="actions">
        <CommandForm csrf={d.csrf} command="check" label="Check for updates" />
        {s.state.pauseReason === "" && (
          <CommandForm csrf={d.csrf} command="pause" label="Pause updates" />
        )}
      </div>
      <p class="muted">
        {check ? `Last check ${v.when(check.time)}.${next}` : `No check yet.${next}`}
        {check?.svcDecision && (
          <>
            <br />
            <span id="policy">{`Policy: ${check.svcDecision}.`}</span>
          </>
        )}
      </p>
      {check?.svcError && <p class="bad">{`Looking up versions: ${check.svcError}`}</p>}
      {check?.toolchainsError && (
        <p class="bad">{`Looking up Go toolchains: ${check.toolchainsError}`}</p>
      )}
      {check?.svc?.newMajor && (
        <p class="note">
          A new major version exists:{" "}
          <strong>{`${check.svc.newMajor.module} ${check.svc.newMajor.version.version}`}</strong>.
          ysco never installs a new major version by itself: it is a different module, usually with
          breaking changes.
        </p>
      )}
    </section>
  );
}
