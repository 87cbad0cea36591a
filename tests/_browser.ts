/**
 * Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, for the
 * admin page tests. Never downloads a browser.
 *
 * @module
 */

import { type Browser, chromium } from "playwright-core";

/**
 * Launches headless Chromium with the flags our closed network needs (playwright
 * gives it a fresh profile); `await using` closes it.
 */
export async function launchBrowser(): Promise<Browser & AsyncDisposable> {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
  return Object.assign(browser, {
    async [Symbol.asyncDispose]() {
      await browser.close();
    },
  });
}

/** Where screenshots go (git-ignored). */
export async function artifactPath(name: string): Promise<string> {
  const dir = new URL("./artifacts/", import.meta.url).pathname;
  await Deno.mkdir(dir, { recursive: true });
  return dir + name;
}
