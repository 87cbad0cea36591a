/**
 * The entries of `process.listen`: `tcp:HOST:PORT` and `unix:PATH`, each optionally
 * named (`http=tcp:127.0.0.1:8080`), the socket addresses they bind (Linux's
 * sockaddr layouts), matching a socket handed to ysco (systemd) to an entry, and the
 * entry as systemd's ListenStream= writes it. See docs/listen.md.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { hostPortProblem, parseHostPort } from "../host_port.ts";

/** A parsed entry of process.listen. */
export type ListenAddress =
  | {
    kind: "tcp";
    /** The name of `NAME=`, or undefined. */
    name: string | undefined;
    /** An IP address without brackets; "" for every interface (IPv6 and IPv4). */
    host: string;
    port: number;
    /** The entry as written. */
    entry: string;
  }
  | {
    kind: "unix";
    name: string | undefined;
    /** The path as written: relative to the working directory, or absolute. */
    path: string;
    entry: string;
  };

/** At most this many entries: the sockets become fds 3.., below where ysco keeps them (200..). */
export const MAX_LISTEN = 64;

/** Linux address families. */
export const AF_UNIX = 1;
/** IPv4. */
export const AF_INET = 2;
/** IPv6. */
export const AF_INET6 = 10;

/** What a descriptor name may be (systemd's FileDescriptorName= allows no ':'). */
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** sun_path holds 108 bytes with the terminating NUL. */
export const MAX_UNIX_PATH = 107;

/**
 * Parses one entry.
 * @throws Error naming the entry and what is wrong with it
 */
export function parseListenEntry(entry: string): ListenAddress {
  const parsed = parse(entry);
  if (typeof parsed === "string") throw new Error(`Cannot use listen entry "${entry}": ${parsed}`);
  return parsed;
}

/** What is wrong with one entry, or undefined (the configuration's check). */
export function listenEntryProblem(entry: string): string | undefined {
  const parsed = parse(entry);
  return typeof parsed === "string" ? parsed : undefined;
}

/**
 * What is wrong with the list as a whole (each entry valid by itself): too many, or
 * an address listed twice. The index is of the offending entry (0-based).
 */
export function listenEntriesProblem(
  entries: readonly string[],
): { index: number; message: string } | undefined {
  if (entries.length > MAX_LISTEN) {
    return { index: MAX_LISTEN, message: `at most ${MAX_LISTEN} entries` };
  }
  const seen = new Map<string, number>();
  for (const [i, entry] of entries.entries()) {
    const a = parse(entry);
    if (typeof a === "string") continue;
    const key = a.kind === "tcp"
      ? `tcp ${hostKey(a.host)} ${a.port}`
      : `unix ${resolve("/", a.path)}`;
    const first = seen.get(key);
    if (first !== undefined) {
      return { index: i, message: `"${entry}" is the address of item ${first + 1} again` };
    }
    seen.set(key, i);
  }
  return undefined;
}

function parse(entry: string): ListenAddress | string {
  const named = /^([^=:/]*)=(.*)$/.exec(entry);
  const name = named?.[1];
  if (name !== undefined && !NAME.test(name)) {
    return `name "${name}" must be 1 to 64 letters, digits, "_", "." or "-"`;
  }
  const rest = named?.[2] ?? entry;
  if (rest.startsWith("tcp:")) {
    const addr = rest.slice(4);
    const problem = hostPortProblem(addr, { emptyHost: true });
    if (problem !== undefined) return `${problem}, as in "tcp:127.0.0.1:8080" or "tcp::8080"`;
    const { host, port } = parseHostPort(addr, { emptyHost: true });
    if (host !== "" && ipBytes(host) === undefined) {
      return `"${host}" is not an IP address (ysco binds before any name is resolved)`;
    }
    return { kind: "tcp", name, host, port, entry };
  }
  if (rest.startsWith("unix:")) {
    const path = rest.slice(5);
    if (path === "") return 'no path after "unix:"';
    if (path.startsWith("@")) return "abstract sockets (@NAME) are not supported; use a path";
    if (path.includes("\0")) return "the path contains a NUL character";
    const bytes = new TextEncoder().encode(path).length;
    if (bytes > MAX_UNIX_PATH) {
      return `the path is ${bytes} bytes, longer than the ${MAX_UNIX_PATH} a socket address holds`;
    }
    return { kind: "unix", name, path, entry };
  }
  return 'must start with "tcp:" or "unix:" (optionally after "NAME=")';
}

/**
 * Whether an entry's socket is IPv6's any address taking IPv4 too: for every
 * interface, "" or an IPv6 any address ("0.0.0.0" is IPv4's only), as in Go.
 */
export function isDualStack(a: ListenAddress): boolean {
  return a.kind === "tcp" && (a.host === "" || a.host.includes(":") && isAny(a.host));
}

/** Whether an IPv4 or IPv6 host means every interface. */
function isAny(host: string): boolean {
  const b = host === "" ? new Uint8Array(0) : ipBytes(host);
  return b !== undefined && b.every((x) => x === 0);
}

function hostKey(host: string): string {
  return isAny(host) ? "" : [...(ipBytes(host) ?? [])].join(".");
}

/**
 * The bytes of an IP address: 4 for IPv4 (dotted decimal), 16 for IPv6 (also with a
 * trailing dotted IPv4 part); undefined for anything else, a zone (%eth0) included.
 */
export function ipBytes(host: string): Uint8Array | undefined {
  if (!host.includes(":")) return ipv4(host);
  const halves = host.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (const [i, p] of parts.entries()) {
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = ipv4(p);
        if (v4 === undefined) return undefined;
        out.push((v4[0] ?? 0) << 8 | (v4[1] ?? 0), (v4[2] ?? 0) << 8 | (v4[3] ?? 0));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0] ?? "");
  const tail = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function ipv4(host: string): Uint8Array | undefined {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p))) return undefined;
  const bytes = parts.map(Number);
  return bytes.every((b) => b <= 255) ? new Uint8Array(bytes) : undefined;
}

/**
 * The socket address (struct sockaddr_in, sockaddr_in6 or sockaddr_un) an entry
 * binds. Every interface (`tcp::PORT`, `tcp:[::]:PORT`) is IPv6's any address, which
 * takes IPv4 too (the socket is made dual-stack, see isDualStack); `ipv4Any` asks
 * for 0.0.0.0 instead, for hosts without IPv6.
 */
export function sockaddr(a: ListenAddress, ipv4Any = false): Uint8Array<ArrayBuffer> {
  if (a.kind === "unix") {
    const out = new Uint8Array(2 + MAX_UNIX_PATH + 1);
    new DataView(out.buffer).setUint16(0, AF_UNIX, true);
    out.set(new TextEncoder().encode(a.path), 2);
    return out;
  }
  const ip = isDualStack(a) ? new Uint8Array(ipv4Any ? 4 : 16) : ipBytes(a.host);
  if (ip === undefined) throw new Error(`Cannot use "${a.host}" as an IP address`);
  const out = new Uint8Array(ip.length === 4 ? 16 : 28);
  const view = new DataView(out.buffer);
  view.setUint16(0, ip.length === 4 ? AF_INET : AF_INET6, true);
  view.setUint16(2, a.port, false);
  out.set(ip, ip.length === 4 ? 4 : 8);
  return out;
}

/** A socket's own address, as getsockname gives it. */
export type SocketAddress =
  | { kind: "tcp"; ip: Uint8Array; port: number }
  | { kind: "unix"; path: string }
  | { kind: "other"; family: number };

/** Decodes the first len bytes of a socket address from getsockname. */
export function decodeSockaddr(bytes: Uint8Array, len: number): SocketAddress {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const family = view.getUint16(0, true);
  if (family === AF_INET && len >= 8) {
    return { kind: "tcp", ip: bytes.slice(4, 8), port: view.getUint16(2, false) };
  }
  if (family === AF_INET6 && len >= 24) {
    return { kind: "tcp", ip: bytes.slice(8, 24), port: view.getUint16(2, false) };
  }
  if (family === AF_UNIX) {
    const path = bytes.subarray(2, Math.min(len, bytes.length));
    const end = path.indexOf(0);
    return { kind: "unix", path: new TextDecoder().decode(end < 0 ? path : path.subarray(0, end)) };
  }
  return { kind: "other", family };
}

/** A socket address as text, for logs: "127.0.0.1:8080", "[::]:8080", "/run/app.sock". */
export function formatSocketAddress(a: SocketAddress): string {
  if (a.kind === "unix") return a.path === "" ? "(unnamed unix socket)" : a.path;
  if (a.kind === "other") return `(address family ${a.family})`;
  if (a.ip.length === 4) return `${a.ip.join(".")}:${a.port}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push((((a.ip[i] ?? 0) << 8) | (a.ip[i + 1] ?? 0)).toString(16));
  }
  return `[${groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::")}]:${a.port}`;
}

/**
 * Whether a socket handed to ysco is the one an entry asks for: the same port and IP
 * address (any address matches every interface, IPv4 or IPv6), or the same path
 * (relative paths taken from cwd).
 */
export function sameAddress(entry: ListenAddress, socket: SocketAddress, cwd: string): boolean {
  if (entry.kind === "unix") {
    return socket.kind === "unix" && socket.path !== "" &&
      resolve(cwd, socket.path) === resolve(cwd, entry.path);
  }
  if (socket.kind !== "tcp" || socket.port !== entry.port) return false;
  if (isAny(entry.host)) return socket.ip.every((b) => b === 0);
  return unmapped(socket.ip).join(".") === unmapped(ipBytes(entry.host) ?? []).join(".");
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its IPv4 address. */
function unmapped(ip: ArrayLike<number>): number[] {
  const a = Array.from(ip);
  const mapped = a.length === 16 && a.slice(0, 10).every((b) => b === 0) && a[10] === 0xff &&
    a[11] === 0xff;
  return mapped ? a.slice(12) : a;
}

/**
 * The entry as systemd's ListenStream= writes it: "127.0.0.1:8080", "[::1]:8080", the
 * port alone for every interface (IPv6 and IPv4), an absolute path for unix.
 * @throws Error when the absolute path is too long for a socket address
 */
export function listenStream(a: ListenAddress, cwd: string): string {
  if (a.kind === "tcp") {
    if (isDualStack(a)) return String(a.port);
    return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
  }
  const path = isAbsolute(a.path) ? a.path : resolve(cwd, a.path);
  if (new TextEncoder().encode(path).length > MAX_UNIX_PATH) {
    throw new Error(
      `Cannot write ListenStream= for "${a.entry}": ${path} is longer than the ${MAX_UNIX_PATH} bytes a socket address holds`,
    );
  }
  return path;
}
