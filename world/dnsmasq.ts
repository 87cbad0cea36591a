/**
 * A real dnsmasq on 127.0.0.1 (UDP and TCP, a random free port) serving TXT records
 * from a generated configuration, for the DNS client and the gopherwatch method.
 * Names under the zones it is local for that it does not know are answered with
 * NXDOMAIN; other names are REFUSED (it has no upstream). `await using` stops it.
 *
 * @module
 */

import dgram from "node:dgram";
import { join } from "node:path";
import { tempDir } from "./util.ts";

/** dnsmasq lives in /usr/sbin, which a non-login PATH may lack. */
const DNSMASQ = ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
}) ?? "dnsmasq";

/** Options for startDnsmasq. */
export interface DnsmasqOptions {
  /** TXT records: name and the strings of one record (each at most 255 bytes); repeat a name for several records. */
  txt?: Array<[name: string, strings: string[]]>;
  /** Names with only an A record (a TXT query gives NODATA). */
  a?: string[];
  /** Zones dnsmasq answers for itself: unknown names under them give NXDOMAIN. @default ["l.gopherwatch.org"] */
  zones?: string[];
  /** The port, e.g. to start a new dnsmasq with other records where an old one served. @default a free port */
  port?: number;
}

/** A running dnsmasq. */
export interface Dnsmasq extends AsyncDisposable {
  /** "127.0.0.1:PORT", for monitor.resolver. */
  address: string;
  port: number;
}

/** Starts dnsmasq and waits until it accepts TCP connections on its port. */
export async function startDnsmasq(options: DnsmasqOptions = {}): Promise<Dnsmasq> {
  for (let attempt = 0;; attempt++) {
    try {
      return await tryStart(options, options.port ?? await freePort());
    } catch (err) {
      // Another process may have taken the port between freePort() and dnsmasq's bind.
      if (attempt >= 4) throw err;
    }
  }
}

async function tryStart(options: DnsmasqOptions, port: number): Promise<Dnsmasq> {
  const dir = await tempDir("ysco-dnsmasq-");
  const conf = [
    `port=${port}`,
    "listen-address=127.0.0.1",
    "bind-interfaces",
    "no-resolv",
    "no-hosts",
    "no-negcache",
    "pid-file=",
    ...(options.zones ?? ["l.gopherwatch.org"]).map((z) => `local=/${z}/`),
    ...(options.txt ?? []).map(([name, strings]) =>
      `txt-record=${name.replace(/\.$/, "")},${strings.map(quote).join(",")}`
    ),
    ...(options.a ?? []).map((name) => `host-record=${name.replace(/\.$/, "")},127.0.0.9`),
  ];
  const file = join(dir.path, "dnsmasq.conf");
  await Deno.writeTextFile(file, conf.join("\n") + "\n");
  const child = new Deno.Command(DNSMASQ, {
    args: ["--keep-in-foreground", `--conf-file=${file}`, "--log-facility=-"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    await child.status;
    await stderr;
    await dir[Symbol.asyncDispose]();
  };
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + 10_000;
  while (true) {
    if (exited) {
      await stop();
      throw new Error(`dnsmasq exited at start: ${(await stderr).trim()}`);
    }
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error("dnsmasq did not start within 10 s");
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return { address: `127.0.0.1:${port}`, port, [Symbol.asyncDispose]: stop };
}

/** dnsmasq's quoting: a quoted string with " and \ escaped. */
function quote(s: string): string {
  if (s.length > 255) throw new Error(`TXT string of ${s.length} bytes: split it`);
  return `"${s.replace(/[\\"]/g, (c) => "\\" + c)}"`;
}

/** A port that is free for both TCP and UDP right now. */
export async function freePort(): Promise<number> {
  for (;;) {
    const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (tcp.addr as Deno.NetAddr).port;
    tcp.close();
    const udp = dgram.createSocket("udp4");
    const free = await new Promise<boolean>((resolve) => {
      udp.once("error", () => resolve(false));
      udp.bind(port, "127.0.0.1", () => resolve(true));
    });
    if (free) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      return port;
    }
  }
}

/** Splits a long TXT value into strings of at most 255 bytes, as a server does. */
export function splitTxt(value: string, size = 255): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += size) out.push(value.slice(i, i + size));
  return out.length > 0 ? out : [""];
}
