/**
 * The admin page in real Chromium against a real `ysco run`: the page works under
 * its Content-Security-Policy (forms, buttons, the refresh while busy), another site
 * cannot frame it, and on a phone nothing is cut off.
 */

import type { ConsoleMessage, Page } from "playwright-core";
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { artifactPath, launchBrowser } from "../_browser.ts";
import { poll } from "../../world/process.ts";
import { TEST_PASSWORD } from "../../world/service.ts";
import { GO, startWorld } from "../../world/world.ts";

/** Collects what Chromium reports about the Content-Security-Policy of a page. */
function cspReports(page: Page): string[] {
  const reports: string[] = [];
  page.on("console", (m: ConsoleMessage) => {
    if (/Content Security Policy/i.test(m.text())) reports.push(m.text());
  });
  return reports;
}

/** The horizontal overflow of the page, px (0: nothing sticks out sideways). */
async function overflow(page: Page): Promise<number> {
  return Number(
    await page.evaluate(
      "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    ),
  );
}

Deno.test("the admin page in Chromium works under its CSP: nothing preselected, Update now installs the chosen version", async () => {
  await using world = await startWorld({ announced: ["v1.1.0"] });
  await world.configure('[monitor]\ndelay = "0s"\n');
  const ysco = await world.startYsco();
  await ysco.waitFor(/msg="checked for updates"/);
  await using browser = await launchBrowser();
  const context = await browser.newContext({
    httpCredentials: { username: "admin", password: TEST_PASSWORD },
  });
  const page = await context.newPage();
  const csp = cspReports(page);
  const base = `http://127.0.0.1:${world.adminPort}/`;
  await page.goto(base);
  assertEquals(await page.textContent("#svc-version"), "v1.0.0");
  assertMatch(
    await page.title(),
    /^ysco - example\.com\/testsvc\/cmd\/testsvc v1\.0\.0 go1\.23\.5$/,
  );
  // The style sheet applies (the policy allows it from the page's origin only).
  assertEquals(
    await page.evaluate("getComputedStyle(document.querySelector('button')).borderRadius"),
    "6px",
  );
  // Discovery found v1.1.0; no version is picked beforehand, the running Go is.
  assert(await page.isVisible('#update-service input[name=version][value="v1.1.0"]'));
  assertEquals(await page.locator("#update-service input[name=version]:checked").count(), 0);
  assert(await page.isChecked(`#update-service input[name=goversion][value="${GO}"]`));
  await page.screenshot({ path: await artifactPath("admin-desktop.png"), fullPage: true });

  await page.check('#update-service input[name=version][value="v1.1.0"]');
  await page.click("#update-now");
  // The page refreshes itself while the update is busy, then shows the new version.
  await poll("the page showing v1.1.0", async () => {
    await page.reload();
    return (await page.textContent("#svc-version")) === "v1.1.0" ? true : undefined;
  }, 60_000);
  await world.waitForVersion("v1.1.0");
  // Recorded once the new version passed its soak.
  await poll("the history showing the update", async () => {
    await page.reload();
    return /installed/.test(await page.textContent("#history") ?? "") ? true : undefined;
  }, 60_000);
  // A form of one button (Pause) works too.
  await page.click("form:has(input[name=command][value=pause]) button");
  await page.waitForSelector(".banner.paused");
  assertEquals((await world.status()).PauseReason, "manually paused");
  assertEquals(csp, []);
  await context.close();
});

Deno.test("another site cannot frame the admin page", async () => {
  await using world = await startWorld();
  await world.configure('[monitor]\ndelay = "1h"\n');
  await world.startYsco();
  // A page of another origin on the same host (same site) that frames the admin page.
  const admin = `http://127.0.0.1:${world.adminPort}/`;
  await using framer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response(
        `<!doctype html><iframe id="f" src="${admin}" width="800" height="600"></iframe>`,
        {
          headers: { "Content-Type": "text/html" },
        },
      ),
  );
  await using browser = await launchBrowser();
  const context = await browser.newContext({
    httpCredentials: { username: "admin", password: TEST_PASSWORD },
  });
  const page = await context.newPage();
  const csp = cspReports(page);
  await page.goto(`http://127.0.0.1:${framer.addr.port}/`);
  const reports = await poll("Chromium refusing the frame", () => {
    const refused = csp.filter((r) => r.includes("frame-ancestors 'none'"));
    return refused.length > 0 ? refused : undefined;
  }, 30_000);
  assertMatch(
    reports[0] ?? "",
    /^Framing 'http:\/\/127\.0\.0\.1:\d+\/' violates the following Content Security Policy directive: "frame-ancestors 'none'"/,
  );
  // Nothing of the admin page is in the frame, so nothing in it can be clicked.
  const frame = page.frames().find((f) => f !== page.mainFrame());
  assert(frame !== undefined);
  assertEquals(await frame.$("#svc-version"), null);
  assertEquals((await world.status()).PauseReason, "");
  await context.close();
});

Deno.test("on a phone, the pending update's button and the history's outcome are in view", async () => {
  // A release that exits at once is rolled back (history, pause), then a newer one is
  // found and waits (scheduled, held back by the pause).
  await using world = await startWorld({ announced: ["v1.0.1"] });
  await world.configure('[policy]\nservice = "minor"\n');
  const ysco = await world.startYsco({ TESTSVC_ONLY_VERSION: "v1.0.1", TESTSVC_EXIT_CODE: "3" });
  await ysco.waitFor(/msg="update ended" .*outcome="rolled back"/);
  await world.announce(["v1.1.0"]);
  assertEquals((await world.postForm({ command: "check" })).status, 303);
  await poll("v1.1.0 scheduled", async () => {
    const s = await world.status();
    return (s.Scheduled as Array<{ Version: string }>).some((u) => u.Version === "v1.1.0")
      ? true
      : undefined;
  });
  await using browser = await launchBrowser();
  const context = await browser.newContext({
    httpCredentials: { username: "admin", password: TEST_PASSWORD },
    viewport: { width: 390, height: 844 },
  });
  const phone = await context.newPage();
  const csp = cspReports(phone);
  await phone.goto(`http://127.0.0.1:${world.adminPort}/`);
  await phone.screenshot({ path: await artifactPath("admin-phone.png"), fullPage: true });
  assertEquals(await overflow(phone), 0);
  const inView = async (what: string, selector: string) => {
    const box = await phone.locator(selector).first().boundingBox();
    assert(box !== null, `${what}: not shown`);
    assert(box.x >= 0 && box.x + box.width <= 390, `${what}: ${JSON.stringify(box)}`);
  };
  await inView("Update now of the pending update", "#scheduled button");
  await inView("the outcome in the history", '#history td[data-label="Outcome"]');
  assertMatch(
    await phone.locator('#history td[data-label="Outcome"]').first().textContent() ?? "",
    /^rolled backexited with status 3$/,
  );
  assertEquals(csp, []);
  await context.close();
});
