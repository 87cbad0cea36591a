/**
 * The admin app behind the real server (src/web/server.ts) on real sockets: bodies
 * refused before they are read and their connections closed, deadlines for slow and
 * idle connections, the connection cap, and the client address reaching the
 * brute-force limit.
 */

import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { poll } from "../../world/process.ts";
import { serveWeb, type WebLimits, type WebServer } from "../../src/web/server.ts";
import { PASSWORD, startApp, type TestApp } from "./_admin_app.ts";

const encoder = new TextEncoder();
const AUTH = "Basic " + btoa(`admin:${PASSWORD}`);

async function serve(t: TestApp, limits: Partial<WebLimits> = {}): Promise<WebServer> {
  return await serveWeb({ hostname: "127.0.0.1", port: 0, limits }, t.app.fetch);
}

/** What a raw connection got: the server's bytes, and how many the client could send. */
interface RawResult {
  response: string;
  sent: number;
}

/**
 * Sends a request head, then body chunks from `chunk` until the server closes the
 * connection or `max` bytes are sent; reads the answer until the server closes.
 */
async function raw(
  port: number,
  head: string,
  body: { chunk: Uint8Array; max: number } | undefined,
): Promise<RawResult> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  if (head !== "") await conn.write(encoder.encode(head));
  let sent = 0;
  let closed = false;
  const writing = (async () => {
    if (body === undefined) return;
    try {
      while (!closed && sent < body.max) {
        await conn.write(body.chunk);
        sent += body.chunk.length;
      }
    } catch {
      // The server closed the connection: what we wanted.
    }
  })();
  let response = "";
  const buf = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      response += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch {
    // Reset by the server after its answer.
  }
  closed = true;
  await writing;
  try {
    conn.close();
  } catch {
    // already closed
  }
  return { response, sent };
}

const MB = 1024 * 1024;
const CHUNK = encoder.encode("a".repeat(64 * 1024));
const CHUNKED = encoder.encode(`10000\r\n${"a".repeat(0x10000)}\r\n`);

Deno.test("anonymous uploads, big or endless, get 401 at once and their connections are closed unread", async () => {
  await using t = await startApp();
  await using server = await serve(t);
  const port = server.addr.port;
  const uploads = [
    raw(
      port,
      "POST /update HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
        `Content-Length: ${100 * MB}\r\n\r\n`,
      { chunk: CHUNK, max: 100 * MB },
    ),
    ...[1, 2, 3].map(() =>
      raw(
        port,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\n" +
          "Transfer-Encoding: chunked\r\n\r\n",
        { chunk: CHUNKED, max: Infinity },
      )
    ),
  ];
  // Meanwhile others are served.
  const others = await fetch(`http://127.0.0.1:${port}/service-version`);
  assertEquals(others.status, 200);
  await others.body?.cancel();
  for (const { response, sent } of await Promise.all(uploads)) {
    assertMatch(response, /^HTTP\/1\.1 401 Unauthorized\r\n/);
    assertMatch(response, /\r\nconnection: close\r\n/i);
    assert(response.includes("\r\n401 - Unauthorized - bad/missing credentials\n"), response);
    // The server stopped reading: the rest could not be sent.
    assert(sent < 32 * MB, `sent ${sent} bytes`);
  }
  const after = await fetch(`http://127.0.0.1:${port}/json`, { headers: { Authorization: AUTH } });
  assertEquals(after.status, 200);
  await after.body?.cancel();
});

Deno.test("the admin's oversized uploads get 413 and their connections are closed", async () => {
  await using t = await startApp();
  await using server = await serve(t);
  const port = server.addr.port;
  const declared = await raw(
    port,
    `POST / HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${100 * MB}\r\n\r\n`,
    { chunk: CHUNK, max: 100 * MB },
  );
  const endless = await raw(
    port,
    `POST / HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\n` +
      "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
    { chunk: CHUNKED, max: Infinity },
  );
  for (const { response, sent } of [declared, endless]) {
    assertMatch(response, /^HTTP\/1\.1 413 /);
    assert(
      response.includes("\r\n413 - Content Too Large - request body larger than 1048576 bytes\n"),
      response,
    );
    assert(sent < 32 * MB, `sent ${sent} bytes`);
  }
  assertEquals(t.actions.calls, []);
});

/** The promise's value, or an error naming what did not happen within ms. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens a connection, sends what is given, and resolves when the server closes it. */
async function closedByServer(port: number, send: string): Promise<string> {
  return (await raw(port, send, undefined)).response;
}

Deno.test("connections that send nothing, half a request or stay idle are closed by the server's deadlines", async () => {
  await using t = await startApp();
  // The production limits: headers within 10 s, 15 s idle between requests.
  await using server = await serve(t);
  const port = server.addr.port;
  const kinds = [
    "",
    "GET / HTTP/1.1\r\n",
    "GET /json HTTP/1.1\r\nHost: x\r\nAuthori",
    "GET /service-version HTTP/1.1\r\nHost: x\r\n\r\n",
  ];
  const conns = Array.from({ length: 200 }, (_, i) => closedByServer(port, kinds[i % 4] ?? ""));
  // While they hang, the server answers.
  const res = await fetch(`http://127.0.0.1:${port}/service-version`);
  assertEquals(res.status, 200);
  await res.body?.cancel();
  const results = await within(Promise.all(conns), 120_000, "the server to close every connection");
  for (const [i, got] of results.entries()) {
    if (i % 4 === 3) assertMatch(got, /^HTTP\/1\.1 200 OK\r\n/);
    else assert(!/^HTTP\/1\.1 200/.test(got), `connection ${i} got an answer: ${got}`);
  }
});

Deno.test("a request whose body does not arrive in time is cut off", async () => {
  await using t = await startApp();
  await using server = await serve(t, { requestTimeoutMs: 2000 });
  const got = await closedByServer(
    server.addr.port,
    `POST / HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\n` +
      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ncsrf=",
  );
  assert(!/^HTTP\/1\.1 (2|3)/.test(got), got);
  assertEquals(t.actions.calls, []);
});

Deno.test("connections beyond the cap are closed at once; the server recovers when they go", async () => {
  await using t = await startApp();
  await using server = await serve(t, { maxConnections: 20 });
  const port = server.addr.port;
  const idle = await Promise.all(
    Array.from({ length: 20 }, () => Deno.connect({ hostname: "127.0.0.1", port })),
  );
  // Give the server a moment to accept them all, by waiting for the cap to show.
  // A connection accepted but not yet counted may still be answered: try until one is refused.
  await poll("the cap to refuse a connection", async () => {
    const got = await within(
      closedByServer(port, "GET /service-version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      60_000,
      "an answer or a close",
    );
    return got === "" ? true : undefined;
  }, 60_000);
  for (const c of idle) c.close();
  await poll("the server to answer again", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/service-version`).catch(() => undefined);
    await res?.body?.cancel();
    return res?.status === 200 ? true : undefined;
  }, 60_000);
});

Deno.test("the brute-force limit sees the client's address through the server", async () => {
  await using t = await startApp();
  await using server = await serve(t);
  const url = `http://127.0.0.1:${server.addr.port}/json`;
  const wrong = { headers: { Authorization: "Basic " + btoa("admin:guess") } };
  const statuses: Array<[number, string | null]> = [];
  for (let i = 0; i < 7; i++) {
    const res = await fetch(url, wrong);
    statuses.push([res.status, res.headers.get("retry-after")]);
    await res.body?.cancel();
  }
  assertEquals(statuses.slice(0, 5), Array(5).fill([401, null]));
  assertEquals(statuses[5], [401, "1"]);
  // The next one came within the second (the clock is the test's): refused unchecked.
  assertEquals(statuses[6], [429, "1"]);
  assertMatch(t.log.join(""), /level=WARN msg="failed admin login" ysco="" client=127\.0\.0\.1 /);
});
