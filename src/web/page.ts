/**
 * The admin status page: plain HTML that works without JavaScript, reads well on a
 * phone and a desktop, and refreshes itself while an update is busy. Every value is
 * escaped by hono's html template.
 *
 * @module
 */

import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { describeConfig } from "../config/describe.ts";
import { formatDuration } from "../duration.ts";
import type { GateStatus } from "../fleet/gate.ts";
import type { FleetStatus, HostStatus } from "../fleet/status.ts";
import { formatZoned } from "../decide/schedule.ts";
import { formatWait } from "../decide/timing.ts";
import type { StatusView } from "../update/updater.ts";
import { isPrerelease } from "../version/semver.ts";

/** What the page shows. */
export interface PageData {
  status: StatusView;
  /** Token every form carries. */
  csrf: string;
  argv: string[];
  configFile: string;
  configText: string;
  yscoVersion: string;
  now: number;
  /** The fleet group as last read from etcd (etcd backend only). */
  fleetGroup?: FleetGroupView;
}

/** The group for the fleet section: the last good reading, and the error of a failed one. */
export interface FleetGroupView {
  status?: FleetStatus;
  /** When status was read (ms since the epoch). */
  readAt?: number;
  /** Why the latest reading failed. */
  error?: string;
}

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

type FormFn = (
  command: string,
  label: string,
  hidden?: Record<string, string>,
  disabled?: boolean,
) => Html;

/** Renders the status page. */
export function renderPage(d: PageData): Html {
  const s = d.status;
  const svc = s.svc;
  const zone = s.config.update.timezone;
  const when = (iso: string) => formatZoned(Date.parse(iso), zone);
  const form = (
    command: string,
    label: string,
    hidden: Record<string, string> = {},
    disabled = false,
  ) =>
    html`
      <form method="post" action="/"
        class="inline"><input type="hidden" name="csrf" value="${d
          .csrf}"><input type="hidden" name="command" value="${command}">${Object.entries(hidden)
          .map(([k, v]) =>
            html`<input type="hidden" name="${k}" value="${v}">`
          )}<button type="submit"${disabled ? raw(" disabled") : ""}>${label}</button></form>
    `;
  const busy = s.busy !== undefined;
  const check = s.lastCheck;
  const versions = check?.svc?.versions ?? [];
  const toolchains = check?.toolchains?.toolchains;
  const goVersions = [
    ...new Set(
      [svc.goVersion, toolchains?.cur, toolchains?.prev, toolchains?.next].filter((
        v,
      ): v is string => !!v),
    ),
  ];

  return html`
    <!doctype html>
    <html lang="en">
      <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    ${busy ? html`<meta http-equiv="refresh" content="3">` : ""}
    <title>ysco - ${svc.modPath}${svc.pkgDir === "/" ? "" : svc.pkgDir} ${svc.version} ${svc
      .goVersion}</title>
    <link rel="icon" href="/favicon.ico">
    <style>${raw(CSS)}</style>
      </head>
      <body>
    <header>
    <h1>ysco <small>managed automated updates</small></h1>
    <p class="service"><strong>${svc.path}</strong> <span class="version" id="svc-version">${svc
      .version}</span> <span class="version">${svc.goVersion}</span>
    ${s.pid
      ? html`
        <span class="muted">pid ${s.pid}, up since ${when(s.startedAt ?? "")}</span>
      `
      : html`
        <span class="bad">not running</span>
      `}</p>
    </header>

    ${busy
      ? html`
        <p
          class="banner busy">Updating to ${s.busy?.version} ${s.busy?.goVersion}: ${s.busy
            ?.phase}. This page refreshes until it is done.</p>
      `
      : ""}
    ${s.state.pauseReason !== ""
      ? html`<div class="banner paused"><p>Automatic updates are paused: ${s.state.pauseReason}</p>${
        form("unpause", "Unpause updates")
      }</div>`
      : ""}

    <section>
    <div class="actions">${form("check", "Check for updates")}${s.state.pauseReason === ""
      ? form("pause", "Pause updates")
      : ""}</div>
    <p class="muted">${check
      ? html`Last check ${when(check.time)}.${
        s.nextCheck
          ? html`
            Next check ${when(s.nextCheck)}.
          `
          : ""
      }`
      : html`No check yet.${
        s.nextCheck
          ? html`
            First check ${when(s.nextCheck)}.
          `
          : ""
      }`}
    ${check?.svcDecision ? html`<br>Policy: ${check.svcDecision}.` : ""}</p>
    ${check?.svcError ? html`<p class="bad">Looking up versions: ${check.svcError}</p>` : ""}
    ${check?.toolchainsError
      ? html`<p class="bad">Looking up Go toolchains: ${check.toolchainsError}</p>`
      : ""}
    ${check?.svc?.newMajor
      ? html`
        <p
          class="note">A new major version exists: <strong>${check.svc.newMajor.module} ${check.svc
            .newMajor.version
            .version}</strong>. ysco never installs a new major version by itself: it is a different module, usually with breaking changes.</p>
      `
      : ""}
    </section>

    <section>
    <h2>Scheduled updates</h2>
    ${s.state.backoff > 0
      ? html`<p class="bad">Backing off after ${s.state.backoff} failed attempt${
        s.state.backoff === 1 ? "" : "s"
      }, last error: ${s.state.backoffReason}</p>`
      : ""}
    ${s.state.scheduled.length === 0 ? html`<p>No updates scheduled.</p>` : html`
      <div class="scroll">
        <table>
      <tr><th>Which</th><th>Version</th><th>Go</th><th>Not before</th><th></th></tr>
      ${s.state.scheduled.map((u) =>
        html`
          <tr>
            <td>${u.which}</td>
            <td>${u.version}</td>
            <td>${u.goVersion}</td>
            <td>${when(
              u.time,
            )}${s.nextUpdate?.update === u ||
                (s.nextUpdate && s.nextUpdate.update.time === u.time &&
                  s.nextUpdate.update.version === u.version)
              ? html`<br><span class="muted">timer: ${when(s.nextUpdate.at)} (in ${
                formatWait(Date.parse(s.nextUpdate.at) - d.now)
              })</span>`
              : ""}</td>
            <td>${form("update", "Update now", {
              which: u.which,
              version: u.version,
              goversion: u.goVersion,
            }, busy)}</td>
          </tr>
        `
      )}
        </table>
      </div>${form("cancel", "Cancel scheduled updates", { which: "svc" }, busy)}
    `}
    </section>

    <section>
    <h2>Update the service</h2>
    <form method="post" action="/" class="update">
    <input type="hidden" name="csrf" value="${d
      .csrf}"><input type="hidden" name="command" value="update"><input type="hidden" name="which" value="svc">
    <fieldset${busy ? raw(" disabled") : ""}>
    <div class="choices"><div><h3>Version</h3>
    ${[...new Set([svc.version, ...versions.map((v) => v.version)])].map((v) =>
      html`<label><input type="radio" name="version" value="${v}"${
        v === svc.version ? raw(" checked") : ""
      }> ${v}${
        v === svc.version
          ? html`
            <span class="muted">(running)</span>
          `
          : ""
      }${
        isPrerelease(v)
          ? html`
            <span class="muted">(prerelease)</span>
          `
          : ""
      }${tagLink(svc.modPath, v)}</label>`
    )}
    </div><div><h3>Go</h3>
    ${goVersions.map((v) =>
      html`<label><input type="radio" name="goversion" value="${v}"${
        v === svc.goVersion ? raw(" checked") : ""
      }> ${v}${
        v === svc.goVersion
          ? html`
            <span class="muted">(running)</span>
          `
          : ""
      }${
        v === toolchains?.cur
          ? html`
            <span class="muted">(current)</span>
          `
          : v === toolchains?.prev
          ? html`
            <span class="muted">(previous)</span>
          `
          : v === toolchains?.next
          ? html`
            <span class="muted">(next, prerelease)</span>
          `
          : ""
      }</label>`
    )}
    </div></div>
    <button type="submit" id="update-now">Update now</button>
    </fieldset>
    </form>
    <details><summary>Other version</summary>
    <form method="post" action="/" class="update">
    <input type="hidden" name="csrf" value="${d
      .csrf}"><input type="hidden" name="command" value="update"><input type="hidden" name="which" value="svc">
    <fieldset${busy ? raw(" disabled") : ""}>
    <label>Version <input name="version" value="${svc.version}" required></label>
    <label>Go version <input name="goversion" value="${svc.goVersion}" required></label>
    <button type="submit">Update now</button>
    </fieldset>
    </form>
    </details>
    </section>

    ${s.config.self.feed_url === "" ? "" : selfSection(d, busy)}

    <section>
    <h2>History</h2>
    ${s.state.history.length === 0 ? html`<p>No updates yet.</p>` : html`
      <div class="scroll">
        <table>
      <tr><th>When</th><th>What</th><th>From</th><th>To</th><th>Outcome</th></tr>
      ${[...s.state.history].reverse().slice(0, 20).map((h) =>
        html`
          <tr>
            <td>${when(h.time)}${h.manual
              ? html`
                <span class="muted">(manual)</span>
              `
              : ""}</td>
            <td>${h.which === "self" ? "ysco" : "service"}</td>
            <td>${h.from.version} ${h.from.goVersion}</td>
            <td>${h.to.version} ${h.to.goVersion}</td>
            <td class="${h.outcome === "installed" ? "good" : "bad"}">${h.outcome}${h.reason
              ? html`<br><span class="muted">${h.reason}</span>`
              : ""}</td>
          </tr>
        `
      )}
        </table>
      </div>
    `}
    </section>

    ${s.fleet ? fleetSection(s.fleet, d.fleetGroup, form, when) : ""}

    <section>
    <h2>Links</h2>
    ${s.config.links.length === 0
      ? html`<p>No links.</p>`
      : html`<ul>${
        s.config.links.map((l) => html`<li><a href="${l.url}">${l.url}</a> ${l.text}</li>`)
      }</ul>`}
    </section>

    <section>
    <h2>Configuration</h2>
    <p class="muted">Started as: <code>${d.argv.join(" ")}</code></p>
    <form method="post" action="/">
    <input type="hidden" name="csrf" value="${d
      .csrf}"><input type="hidden" name="command" value="saveconfig">
    <fieldset${busy ? raw(" disabled") : ""}>
    <label for="config">${d.configFile}</label>
    <textarea id="config" name="config" rows="20" spellcheck="false">${d.configText}</textarea>
    <button type="submit">Save and apply</button> <span class="muted">Checked before saving; applied without restarting the service.</span>
    </fieldset>
    </form>
    <details><summary>Every key with its default</summary><pre>${describeConfig(
      "defaults",
    )}</pre></details>
    </section>

    <footer class="muted">ysco ${d
      .yscoVersion} &middot; <a href="/json">JSON</a> &middot; <a href="/metrics">metrics</a></footer>
    </body>
    </html>
  `;
}

/** The "Update ysco" section: releases from ysco's feed. */
function selfSection(d: PageData, busy: boolean): Html {
  const s = d.status;
  const check = s.lastCheck;
  const versions = check?.selfVersions ?? [];
  const choices = versions.slice(0, 10).map((v) =>
    html`<label><input type="radio" name="version" value="${v}"${
      v === s.self.version ? raw(" checked") : ""
    }> ${v}${
      v === s.self.version
        ? html`
          <span class="muted">(running)</span>
        `
        : ""
    }</label>`
  );
  return html`<section>
<h2>Update ysco</h2>
<p>Running ysco <span class="version" id="self-version">${s.self.version}</span> (${s.self.platform}).${
    check?.selfError ? html`<br><span class="bad">Release feed: ${check.selfError}</span>` : ""
  }</p>
${
    versions.length === 0
      ? html`<p class="muted">No releases known yet.</p>`
      : html`<form method="post" action="/" class="update">
<input type="hidden" name="csrf" value="${d.csrf}"><input type="hidden" name="command" value="update"><input type="hidden" name="which" value="self">
<fieldset${busy ? raw(" disabled") : ""}>
<div class="choices"><div>${choices}</div></div>
<button type="submit" id="update-self">Update ysco</button> <span class="muted">The service keeps running.</span>
</fieldset>
</form>`
  }
</section>`;
}

/**
 * The fleet section: this host's part (connected, waiting or holding a slot), the
 * halted versions with a Resume button, and every host of the group with its
 * version, health, role and what it is doing, the slot holders and the queue.
 */
function fleetSection(
  f: GateStatus,
  group: FleetGroupView | undefined,
  form: FormFn,
  when: (iso: string) => string,
): Html {
  const g = group?.status;
  const halted = g?.targets.filter((t) => t.halt !== undefined) ?? [];
  // Halted versions as this host saw them while waiting, when the group cannot be read.
  const ownHalt = f.waiting?.halt &&
      !halted.some((t) => t.version === f.waiting?.version && t.goVersion === f.waiting.goVersion)
    ? [{ version: f.waiting.version, goVersion: f.waiting.goVersion, halt: f.waiting.halt }]
    : [];
  const held = g?.queue.filter((q) => q.holdsSlot) ?? [];
  const queued = g?.queue.filter((q) => !q.holdsSlot) ?? [];
  const activity = (h: HostStatus) =>
    h.updating
      ? html`updating to ${h.updating.version} ${h.updating.goVersion} since ${
        when(
          h.updating.since,
        )
      }`
      : h.waiting
      ? html`waiting for ${h.waiting.version} ${h.waiting.goVersion} since ${when(h.waiting.since)}`
      : "";
  return html`
    <section id="fleet">
    <h2>Fleet</h2>
    <p>Group <strong>${f.group}</strong>, this host <strong>${f.id}</strong> (${f.backend}): ${f
        .connected
      ? html`<span class="good">connected</span>`
      : html`<span class="bad">not connected${
        f.error
          ? html`: ${f.error.message} (since ${
            when(f.error.since.toISOString())
          }); no update is installed until it is back`
          : ""
      }</span>`}.</p>
    ${f.waiting
      ? html`<p class="${
        f.waiting.halt ? "bad" : ""
      }">Waiting to install ${f.waiting.version} ${f.waiting.goVersion} since ${
        when(f.waiting.since.toISOString())
      }: ${f.waiting.reason}</p>`
      : ""}
    ${f.holding
      ? html`<p>Holding a slot for ${f.holding.version} ${f.holding.goVersion} since ${
        when(
          f.holding.since.toISOString(),
        )
      }.</p>`
      : ""}
    ${[
      ...halted.map((t) => ({ version: t.version, goVersion: t.goVersion, halt: t.halt })),
      ...ownHalt,
    ]
      .map((t) =>
        t.halt
          ? html`
            <div
              class="banner paused halt"><p>Halted: <strong>${t.version} ${t
                .goVersion}</strong> was rolled back on ${t.halt.by} at ${when(t.halt.at)}: ${t.halt
                .reason}. No host of the group installs it until it is resumed.</p>${form(
                  "fleetresume",
                  `Resume ${t.version}`,
                  {
                    version: t.version,
                    goversion: t.goVersion,
                  },
                )}</div>
          `
          : ""
      )}
    ${g
      ? html`
        <p>${g.hosts.length} host${g.hosts.length === 1 ? "" : "s"}; ${held
          .length} of ${g.maxConcurrent} slot${g.maxConcurrent === 1
          ? ""
          : "s"} taken${held.length > 0
          ? html`
            (${held.map((q) => `${q.id}: ${q.version} ${q.goVersion}`).join(", ")})
          `
          : ""}${queued.length > 0
          ? html`, queue: ${queued.map((q) => q.id).join(", ")}`
          : ""}; canar${g.canaries.length === 1 ? "y" : "ies"} ${g.canaries.length > 0
          ? g.canaries.join(", ")
          : "none"}, soak ${formatDuration(g.soak)}.</p>
        <div class="scroll">
          <table class="fleet-hosts">
        <tr><th>Host</th><th>Version</th><th>Go</th><th>Healthy</th><th>Role</th><th>State</th></tr>
        ${g.hosts.map((h) =>
          html`
            <tr>
              <td>${h.id}${h.id === f.id
                ? html`
                  <span class="muted">(this host)</span>
                `
                : ""}</td>
              <td>${h.version}</td>
              <td>${h.goVersion}</td>
              <td class="${h.healthy ? "good" : "bad"}">${h.healthy ? "yes" : "no"}</td>
              <td>${[
                h.canary ? "canary" : h.paused ? "paused" : "",
                h.holdsSlot ? "slot" : "",
              ].filter((x) => x !== "")
                .join(", ")}</td>
              <td>${activity(h)}${h.lastError
                ? html`<br><span class="bad">${h.lastError}</span>`
                : ""}</td>
            </tr>
          `
        )}
          </table>
        </div>
        ${g.targets.filter((t) => t.soaked.length > 0).map((t) =>
          html`<p class="muted">${t.version} ${t.goVersion} ran its soak on ${
            t.soaked.join(
              ", ",
            )
          }.</p>`
        )}
        <p class="muted">Read from etcd at revision ${g.revision}${group?.readAt
          ? html`, ${when(new Date(group.readAt).toISOString())}`
          : ""}.</p>
      `
      : ""}
    ${group?.error ? html`<p class="bad">Reading the group from etcd: ${group.error}</p>` : ""}
    <p class="muted">${f.counters.slots} slot${f.counters.slots === 1 ? "" : "s"} taken, ${f
      .counters
      .halts} halt${f.counters.halts === 1
      ? ""
      : "s"} by this host. <code>ysco fleet status</code> shows the same from a shell.</p>
    </section>
  `;
}

/**
 * A guessed link to the release notes of a version (the original's guessTagURL,
 * guarded for short paths): GitHub, GitLab, Codeberg, sourcehut and golang.org/x.
 */
export function tagUrl(modPath: string, version: string): string | undefined {
  if (isPrerelease(version)) return undefined;
  const t = modPath.split("/");
  const [host = "", a = "", b = ""] = t;
  const rest = t.slice(3);
  if (host.includes("github") && t.length >= 3) {
    return `https://${host}/${a}/${b}/releases/tag/${
      encodeURIComponent([...rest, version].join("/"))
    }`;
  }
  if (host.includes("gitlab") && t.length >= 3) {
    return `https://${host}/${a}/${b}/-/tags/${version}`;
  }
  if (host.includes("codeberg") && t.length >= 3) {
    return `https://${host}/${a}/${b}/releases/tag/${version}`;
  }
  if (host.includes("sr.ht") && t.length >= 3) return `https://${host}/${a}/${b}/refs/${version}`;
  if (host === "golang.org" && a === "x" && t.length >= 3) {
    return `https://github.com/golang/${b}/releases/tag/${
      encodeURIComponent([...rest, version].join("/"))
    }`;
  }
  return undefined;
}

function tagLink(modPath: string, version: string): Html | string {
  const url = tagUrl(modPath, version);
  return url
    ? html`
      <a href="${url}" title="Guessed URL for the tag, may have release notes">tag</a>
    `
    : "";
}

const CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #667; --bg: #fff; --line: #d8dde3; --accent: #1f6f4a; --bad: #b3261e; --note: #f3f0d9; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --muted: #9aa3ad; --bg: #15181c; --line: #2d333b; --accent: #5cc28f; --bad: #ff8a80; --note: #2e2b1b; } }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: 0; } h1 small { font-weight: normal; color: var(--muted); font-size: 0.9rem; }
h2 { font-size: 1.1rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; margin-top: 1.75rem; }
h3 { font-size: .95rem; margin: .25rem 0; }
section { margin-bottom: 1rem; }
.version { font-family: ui-monospace, monospace; background: var(--line); padding: 0 .35rem; border-radius: 4px; }
.muted { color: var(--muted); } .bad { color: var(--bad); } .good { color: var(--accent); }
.banner { padding: .6rem .8rem; border-radius: 6px; border: 1px solid var(--line); }
.banner.busy { background: var(--note); } .banner.paused { border-color: var(--bad); }
.banner p { margin: 0 0 .4rem 0; }
.note { background: var(--note); padding: .5rem .75rem; border-radius: 6px; }
form.inline { display: inline; }
.actions form { margin-right: .5rem; }
button { font: inherit; padding: .35rem .8rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button:disabled { opacity: .5; cursor: default; }
fieldset { border: 0; padding: 0; margin: 0; }
.choices { display: flex; flex-wrap: wrap; gap: 2rem; margin-bottom: .75rem; }
.choices label { display: block; }
input[name=version], input[name=goversion] { font: inherit; }
label input:not([type=radio]) { display: block; margin-bottom: .5rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin-bottom: .5rem; }
.fleet-hosts td { white-space: nowrap; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
textarea { width: 100%; font: 13px/1.4 ui-monospace, monospace; background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 6px; padding: .5rem; }
pre { overflow-x: auto; font-size: 12px; }
footer { margin-top: 2rem; font-size: .85rem; }
a { color: var(--accent); }
`;
