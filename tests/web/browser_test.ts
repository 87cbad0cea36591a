import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { artifactPath, launchBrowser } from "../_browser.ts";
import { TEST_PASSWORD } from "../_service.ts";
import { GO, startWorld } from "../_world.ts";

Deno.test("the admin page in Chromium: shows the versions, and Update now leads to the new version", async () => {
  await using world = await startWorld({ announced: ["v1.1.0"] });
  await world.configure('[monitor]\ndelay = "0s"\n');
  const ysco = await world.startYsco();
  await ysco.waitFor(/msg="checked for updates"/);
  await using browser = await launchBrowser();
  const context = await browser.newContext({
    httpCredentials: { username: "admin", password: TEST_PASSWORD },
  });
  const page = await context.newPage();
  const base = `http://127.0.0.1:${world.adminPort}/`;
  await page.goto(base);
  assertEquals(await page.textContent("#svc-version"), "v1.0.0");
  assertMatch(
    await page.title(),
    /^ysco - example\.com\/testsvc\/cmd\/testsvc v1\.0\.0 go1\.23\.5$/,
  );
  // Discovery found v1.1.0: offered as a choice (the patch policy does not take it by itself).
  assert(await page.isVisible('input[name=version][value="v1.1.0"]'));
  await page.screenshot({ path: await artifactPath("admin-desktop.png"), fullPage: true });

  await page.check('input[name=version][value="v1.1.0"]');
  await page.check(`input[name=goversion][value="${GO}"]`);
  await page.click("#update-now");
  // The page refreshes itself while the update is busy, then shows the new version.
  await page.waitForFunction(
    'document.querySelector("#svc-version")?.textContent === "v1.1.0"',
    undefined,
    {
      timeout: 60_000,
      polling: 500,
    },
  );
  await world.waitForVersion("v1.1.0");
  await page.goto(base);
  assertMatch(await page.textContent("body") ?? "", /installed/);

  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(base);
  // Nothing sticks out sideways on a phone.
  const overflow = await phone.evaluate(
    "document.documentElement.scrollWidth - document.documentElement.clientWidth",
  );
  assertEquals(overflow, 0);
  await phone.screenshot({ path: await artifactPath("admin-phone.png"), fullPage: true });
  await context.close();
});
