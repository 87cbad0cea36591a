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
}

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

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

    ${s.fleet
      ? html`<section>
<h2>Fleet</h2>
<p>Group <strong>${s.fleet.group}</strong>, this host <strong>${s.fleet.id}</strong> (${s.fleet.backend}): ${
        s.fleet.connected
          ? html`<span class="good">connected</span>`
          : html`<span class="bad">not connected${
            s.fleet.error ? html`: ${s.fleet.error.message}` : ""
          }</span>`
      }.</p>
${
        s.fleet.waiting
          ? html`<p>Waiting to install ${s.fleet.waiting.version} ${s.fleet.waiting.goVersion}: ${s.fleet.waiting.reason}</p>`
          : ""
      }
${
        s.fleet.holding
          ? html`<p>Holding a slot for ${s.fleet.holding.version} ${s.fleet.holding.goVersion}.</p>`
          : ""
      }
<p class="muted">${s.fleet.counters.slots} slots taken, ${s.fleet.counters.halts} halts. <code>ysco fleet status</code> shows every host.</p>
</section>`
      : ""}

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
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
textarea { width: 100%; font: 13px/1.4 ui-monospace, monospace; background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 6px; padding: .5rem; }
pre { overflow-x: auto; font-size: 12px; }
footer { margin-top: 2rem; font-size: .85rem; }
a { color: var(--accent); }
`;
