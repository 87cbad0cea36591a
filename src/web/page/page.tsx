/** @jsxImportSource hono/jsx */
/**
 * The admin status page: plain HTML without any script (the Content-Security-Policy
 * allows none), that reads well on a phone and a desktop and refreshes itself while
 * an update is busy. Every value is escaped by hono/jsx.
 *
 * @module
 */

import type { JSX } from "hono/jsx/jsx-runtime";
import { Configuration, Links } from "./config_section.tsx";
import { Fleet } from "./fleet.tsx";
import { History } from "./history.tsx";
import { Banners, Checks, Header } from "./overview.tsx";
import { Scheduled } from "./scheduled.tsx";
import { UpdateSelf } from "./update_self.tsx";
import { UpdateService } from "./update_service.tsx";
import { type PageData, viewOf } from "./view.ts";

export type { PageData } from "./view.ts";

/** The page. */
export function Page({ d }: { d: PageData }): JSX.Element {
  const v = viewOf(d);
  const svc = d.status.svc;
  const pkg = svc.pkgDir === "/" ? "" : svc.pkgDir;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {v.busy && <meta http-equiv="refresh" content="3" />}
        <title>{`ysco - ${svc.modPath}${pkg} ${svc.version} ${svc.goVersion}`}</title>
        <link rel="icon" href="/favicon.ico" />
        <link rel="stylesheet" href="/style.css" />
      </head>
      <body>
        <Header v={v} />
        <Banners v={v} />
        <Checks v={v} />
        <Scheduled v={v} />
        <UpdateService v={v} />
        {d.status.config.self.feed_url !== "" && <UpdateSelf v={v} />}
        <History v={v} />
        {d.status.fleet && <Fleet v={v} f={d.status.fleet} />}
        <Links v={v} />
        <Configuration v={v} />
        <footer class="muted">
          {`ysco ${d.yscoVersion} \u00b7 `}
          <a href="/json">JSON</a>
          {" \u00b7 "}
          <a href="/metrics">metrics</a>
        </footer>
      </body>
    </html>
  );
}

/** The page as HTML text, with its doctype. */
export async function renderPage(d: PageData): Promise<string> {
  return "<!doctype html>" + await (<Page d={d} />).toString();
}
