/**
 * The admin page's style sheet, served as `/style.css` (the Content-Security-Policy
 * allows no inline style). Light and dark; on a narrow screen, tables turn into one
 * block per row with each cell labelled, so that nothing sticks out sideways.
 *
 * @module
 */

/** The style sheet. */
export const STYLE_CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #667; --bg: #fff; --line: #d8dde3; --accent: #1f6f4a; --bad: #b3261e; --note: #f3f0d9; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --muted: #9aa3ad; --bg: #15181c; --line: #2d333b; --accent: #5cc28f; --bad: #ff8a80; --note: #2e2b1b; } }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); max-width: 60rem; margin: 0 auto; padding: 1rem; overflow-wrap: anywhere; }
h1 { font-size: 1.4rem; margin: 0; } h1 small { font-weight: normal; color: var(--muted); font-size: 0.9rem; }
h2 { font-size: 1.1rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; margin-top: 1.75rem; }
h3 { font-size: .95rem; margin: .25rem 0; }
section { margin-bottom: 1rem; }
details { margin: .5rem 0; }
.version { font-family: ui-monospace, monospace; background: var(--line); padding: 0 .35rem; border-radius: 4px; }
.muted { color: var(--muted); } .bad { color: var(--bad); } .good { color: var(--accent); }
.banner { padding: .6rem .8rem; border-radius: 6px; border: 1px solid var(--line); margin: .5rem 0; }
.banner.busy { background: var(--note); } .banner.paused, .banner.warning { border-color: var(--bad); }
.banner p { margin: 0 0 .4rem 0; } .banner p:last-child { margin-bottom: 0; }
.note { background: var(--note); padding: .5rem .75rem; border-radius: 6px; }
form.inline { display: inline; }
.actions form { margin-right: .5rem; }
button { font: inherit; padding: .35rem .8rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button:disabled { opacity: .5; cursor: default; }
fieldset { border: 0; padding: 0; margin: 0; min-width: 0; }
.choices { display: flex; flex-wrap: wrap; gap: 2rem; margin-bottom: .75rem; }
.choices label { display: block; }
input[name=version], input[name=goversion] { font: inherit; }
label input:not([type=radio]) { display: block; margin-bottom: .5rem; max-width: 100%; }
table { border-collapse: collapse; width: 100%; margin-bottom: .5rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.key { font-family: ui-monospace, monospace; }
textarea { width: 100%; font: 13px/1.4 ui-monospace, monospace; background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 6px; padding: .5rem; }
pre { overflow-x: auto; font-size: 12px; }
code { overflow-wrap: anywhere; }
footer { margin-top: 2rem; font-size: .85rem; }
a { color: var(--accent); }
@media (max-width: 40rem) {
  table, thead, tbody, tr, th, td { display: block; width: 100%; }
  thead { display: none; }
  tr { border-bottom: 1px solid var(--line); padding: .3rem 0; }
  td { border: 0; padding: .1rem 0; }
  td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
}
`;
