/**
 * The listening sockets of `process.listen`, which ysco holds for the service so
 * that the kernel queues new connections while one service process stops and the
 * next starts (docs/listen.md). Deno cannot create a socket without taking it over
 * or make a descriptor inheritable, so this goes through FFI to the C library
 * (Linux): socket, bind, listen, and fcntl for where a descriptor lives and whether
 * a child inherits it.
 *
 * Every socket is kept at a descriptor >= 200 with close-on-exec set, so that no
 * hook or other child inherits it and the service's fds 3.. never collide with it:
 * only around the service's spawn (withInheritedSockets) and a self-update's exec
 * (setListenSocketsInherited) is close-on-exec cleared. They come from:
 *
 * - systemd (a `.socket` unit, or anything speaking its protocol): LISTEN_FDS
 *   descriptors from 3, when LISTEN_PID is this process (takePassedSockets);
 * - the ysco this process replaced in a self-update (its ExecState);
 * - ysco itself, for the entries of process.listen no passed socket has the address of.
 *
 * @module
 */

import { basename, resolve } from "node:path";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import {
  AF_INET,
  AF_INET6,
  decodeSockaddr,
  formatSocketAddress,
  isDualStack,
  type ListenAddress,
  MAX_UNIX_PATH,
  parseListenEntry,
  sameAddress,
  sockaddr,
  type SocketAddress,
} from "./listen_address.ts";
import { SHIM_SHELL } from "./listen_shim.ts";

/** A listening socket ysco holds for the service. */
export interface ListenSocket {
  /** The descriptor in ysco (>= FIRST_FD, close-on-exec). */
  fd: number;
  /** Its name in LISTEN_FDNAMES. */
  name: string;
  /** Its address, for logs: the entry of process.listen, or what getsockname says. */
  address: string;
}

/** A descriptor systemd handed to ysco, moved to FIRST_FD and above. */
export interface PassedSocket {
  fd: number;
  /** From LISTEN_FDNAMES; "unknown" when it has none (as sd_listen_fds_with_names says). */
  name: string;
  address: SocketAddress;
}

/** Where ysco keeps the sockets: far above the service's fds 3.. and Deno's own. */
export const FIRST_FD = 200;
/** The first descriptor of systemd's socket-activation protocol. */
const LISTEN_FDS_START = 3;
/** The service's fds 3.. must stay below FIRST_FD. */
const MAX_SOCKETS = FIRST_FD - LISTEN_FDS_START;
/** The variables of systemd's socket-activation protocol. */
export const LISTEN_ENV = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] as const;

const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const F_DUPFD_CLOEXEC = 1030;
const EAFNOSUPPORT = 97;
const EADDRNOTAVAIL = 99;
/** The kernel caps it at net.core.somaxconn (4096 on current Linux). */
const BACKLOG = 4096;
/** What systemd's SocketMode= defaults to: who may connect is up to the directory. */
const UNIX_SOCKET_MODE = 0o666;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (Deno.build.os !== "linux") {
    throw new Error(
      `Cannot hand listening sockets to the service on ${Deno.build.os}: process.listen and ` +
        "sockets from systemd are supported on Linux only",
    );
  }
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

/** errno of the last failed call of this thread, as strerror words it. */
function lastError(): { errno: number; text: string } {
  const { __errno_location, strerror } = libc();
  const p = __errno_location();
  const errno = p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
  const s = strerror(errno);
  return { errno, text: s === null ? `errno ${errno}` : Deno.UnsafePointerView.getCString(s) };
}

/** The sockets this process holds for the service (what a self-update hands on). */
let held: ListenSocket[] = [];

/**
 * Takes the descriptors systemd passed (LISTEN_FDS from fd 3, when LISTEN_PID is this
 * process): moves each to FIRST_FD and above with close-on-exec set, so that no
 * child inherits it, and removes LISTEN_* from the environment, which hooks and the
 * service get otherwise. Call it first thing, before any child is started.
 * @returns the sockets, and a note when LISTEN_* was there but not for this process
 * @throws Error when LISTEN_FDS is not a count or a descriptor is not open
 */
export function takePassedSockets(): { sockets: PassedSocket[]; note?: string } {
  const [pid, count, names] = LISTEN_ENV.map((k) => Deno.env.get(k));
  for (const k of LISTEN_ENV) Deno.env.delete(k);
  if (pid === undefined || count === undefined) return { sockets: [] };
  if (pid !== String(Deno.pid)) {
    return { sockets: [], note: `LISTEN_PID ${pid} is another process than ysco (${Deno.pid})` };
  }
  const n = /^[0-9]{1,9}$/.test(count) ? Number(count) : -1;
  if (n < 0) {
    throw new Error(`Cannot take the sockets systemd passed: LISTEN_FDS="${count}" is no count`);
  }
  if (n > MAX_SOCKETS) {
    throw new Error(
      `Cannot take the sockets systemd passed: ${n} are more than the ${MAX_SOCKETS} ysco hands on`,
    );
  }
  const nameList = names === undefined ? [] : names.split(":");
  const { fcntl } = libc();
  const sockets: PassedSocket[] = [];
  for (let i = 0; i < n; i++) {
    const fd = LISTEN_FDS_START + i;
    if (fcntl(fd, F_GETFD, 0) < 0) {
      throw new Error(
        `Cannot take the sockets systemd passed: descriptor ${fd} of LISTEN_FDS=${n} is not open`,
      );
    }
    const high = moveHigh(fd);
    sockets.push({ fd: high, name: nameList[i] || "unknown", address: addressOf(high) });
  }
  return { sockets };
}

/** What prepareListenSockets works with. */
export interface ListenSetup {
  /** process.listen. */
  entries: readonly string[];
  /** The service binary: its name is the name of unnamed entries (as systemd names by unit). */
  cmd: string;
  /** Sockets systemd passed (takePassedSockets). */
  passed: readonly PassedSocket[];
  /** The sockets of the ysco this process replaced, when it did. */
  exec?: readonly ListenSocket[];
  log: Logger;
  /** Relative unix paths are from here. @default the working directory */
  cwd?: string;
}

/**
 * The sockets the service gets as fds 3.., in this order: after a self-update the
 * replaced ysco's; else for each entry of process.listen a passed socket with its
 * address or a socket ysco opens, named as the entry says; then the passed sockets
 * no entry has the address of, with systemd's names.
 * @throws Error naming the entry that cannot be listened on; ysco's own sockets are closed then
 */
export async function prepareListenSockets(o: ListenSetup): Promise<ListenSocket[]> {
  const cwd = o.cwd ?? Deno.cwd();
  if (o.exec !== undefined) {
    held = adoptExecSockets(o.exec, o.log);
    return held;
  }
  if ((o.entries.length > 0 || o.passed.length > 0) && !(await isFile(SHIM_SHELL))) {
    throw new Error(
      `Cannot hand listening sockets to the service: ${SHIM_SHELL} does not exist ` +
        "(ysco moves the sockets to fds 3.. with it, see docs/listen.md)",
    );
  }
  if (o.entries.length + o.passed.length > MAX_SOCKETS) {
    throw new Error(
      `Cannot hand ${
        o.entries.length + o.passed.length
      } sockets to the service: at most ${MAX_SOCKETS}`,
    );
  }
  const service = basename(o.cmd);
  const defaultName = /^[A-Za-z0-9_.-]{1,64}$/.test(service) ? service : "unknown";
  const unused = [...o.passed];
  const out: ListenSocket[] = [];
  const opened: Array<{ fd: number; path: string | undefined }> = [];
  try {
    for (const entry of o.entries) {
      const a = parseListenEntry(entry);
      const name = a.name ?? defaultName;
      const addr = a.name === undefined ? entry : entry.slice(a.name.length + 1);
      const i = unused.findIndex((p) => sameAddress(a, p.address, cwd));
      const passed = i >= 0 ? unused.splice(i, 1)[0] : undefined;
      if (passed !== undefined) {
        out.push({ fd: passed.fd, name, address: addr });
        o.log.info("listening for the service", {
          addr,
          name,
          fd: passed.fd,
          from: "systemd",
        });
        continue;
      }
      const fd = await openSocket(a, cwd);
      opened.push({ fd, path: a.kind === "unix" ? resolve(cwd, a.path) : undefined });
      out.push({ fd, name, address: addr });
      o.log.info("listening for the service", { addr, name, fd });
    }
  } catch (err) {
    for (const { fd, path } of opened) {
      libc().close(fd);
      if (path !== undefined) await Deno.remove(path).catch(() => {});
    }
    throw err;
  }
  for (const p of unused) {
    const address = formatSocketAddress(p.address);
    out.push({ fd: p.fd, name: p.name, address });
    o.log.info("passing on a socket from systemd", { addr: address, name: p.name, fd: p.fd });
  }
  held = out;
  return out;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * The replaced ysco's sockets, inherited across the exec: close-on-exec set again.
 * One that is not open is left out (logged): the running service keeps its own
 * copies, and ysco goes on rather than leave it without a supervisor.
 */
function adoptExecSockets(sockets: readonly ListenSocket[], log: Logger): ListenSocket[] {
  const out: ListenSocket[] = [];
  for (const s of sockets) {
    if (libc().fcntl(s.fd, F_SETFD, FD_CLOEXEC) !== 0) {
      log.error("cannot take over listening socket from the ysco that replaced itself", {
        addr: s.address,
        fd: s.fd,
        err: lastError().text,
      });
      continue;
    }
    out.push(s);
  }
  return out;
}

/**
 * Runs spawn with the sockets inheritable (close-on-exec cleared) and clears that
 * again before returning. spawn must start its child synchronously (Deno.Command's
 * spawn does): JavaScript runs nothing else meanwhile, so no other child inherits them.
 */
export function withInheritedSockets<T>(sockets: readonly ListenSocket[], spawn: () => T): T {
  if (sockets.length === 0) return spawn();
  setInherited(sockets, true);
  try {
    return spawn();
  } finally {
    setInherited(sockets, false);
  }
}

/** The sockets this process holds, for the ExecState of a self-update. */
export function heldListenSockets(): ListenSocket[] {
  return [...held];
}

/**
 * Makes the held sockets inheritable right before a self-update's execve (the new
 * program takes them over from its ExecState), or not again after a failed one.
 * Never throws: a socket the new program does not find open is logged and left out
 * there.
 */
export function setListenSocketsInherited(inherited: boolean): void {
  try {
    setInherited(held, inherited);
  } catch {
    // see above
  }
}

function setInherited(sockets: readonly ListenSocket[], inherited: boolean): void {
  const { fcntl } = libc();
  for (const s of sockets) {
    if (fcntl(s.fd, F_SETFD, inherited ? 0 : FD_CLOEXEC) !== 0) {
      throw new Error(
        `Cannot ${
          inherited ? "hand on" : "keep"
        } listening socket ${s.address} (descriptor ${s.fd}): ${lastError().text}`,
      );
    }
  }
}

/** Closes sockets (tests, benchmarks); the service's copies stay open. */
export function closeListenSockets(sockets: readonly ListenSocket[]): void {
  for (const s of sockets) libc().close(s.fd);
  held = held.filter((h) => !sockets.some((s) => s.fd === h.fd));
}

/** A copy of fd at FIRST_FD or above with close-on-exec; fd is closed. */
function moveHigh(fd: number): number {
  const { fcntl, close } = libc();
  const high = fcntl(fd, F_DUPFD_CLOEXEC, FIRST_FD);
  if (high < 0) {
    const err = lastError().text;
    close(fd);
    throw new Error(`Cannot move descriptor ${fd} to ${FIRST_FD} or above: ${err}`);
  }
  close(fd);
  return high;
}

function addressOf(fd: number): SocketAddress {
  const addr = new Uint8Array(128);
  const len = new Uint32Array([addr.length]);
  if (libc().getsockname(fd, addr, new Uint8Array(len.buffer)) !== 0) {
    return { kind: "other", family: -1 };
  }
  return decodeSockaddr(addr, len[0] ?? 0);
}

/**
 * Opens a listening socket for an entry: SO_REUSEADDR (a restarted ysco binds while
 * old connections linger), a dual-stack IPv6 socket for every interface (IPv4 only
 * on a host without IPv6), a stale unix socket file replaced.
 * @returns its descriptor, at FIRST_FD or above with close-on-exec
 */
async function openSocket(a: ListenAddress, cwd: string): Promise<number> {
  if (a.kind === "unix") {
    const path = resolve(cwd, a.path);
    await clearUnixPath(path, a.entry);
    // Bound by its absolute path when that fits a socket address, else as written.
    const fits = new TextEncoder().encode(path).length <= MAX_UNIX_PATH;
    const fd = bindAndListen(a.entry, sockaddr({ ...a, path: fits ? path : a.path }), false);
    try {
      await Deno.chmod(path, UNIX_SOCKET_MODE);
    } catch (err) {
      libc().close(fd);
      await Deno.remove(path).catch(() => {});
      throw new Error(`Cannot listen on ${a.entry}: cannot set the mode of ${path}`, {
        cause: err,
      });
    }
    return fd;
  }
  if (!isDualStack(a)) return bindAndListen(a.entry, sockaddr(a), false);
  return bindAndListen(a.entry, sockaddr(a), true) ??
    bindAndListen(a.entry, sockaddr(a, true), false);
}

/**
 * socket, bind and listen, moved to FIRST_FD. dualStack: an IPv6 socket that takes
 * IPv4 too; undefined when the host has no IPv6.
 * @throws Error naming the entry and the call that failed
 */
function bindAndListen(
  entry: string,
  addr: Uint8Array<ArrayBuffer>,
  dualStack: true,
): number | undefined;
function bindAndListen(entry: string, addr: Uint8Array<ArrayBuffer>, dualStack: false): number;
function bindAndListen(
  entry: string,
  addr: Uint8Array<ArrayBuffer>,
  dualStack: boolean,
): number | undefined {
  const { socket, setsockopt, bind, listen, close } = libc();
  const fail = (call: string, fd?: number): Error => {
    const e = lastError();
    if (fd !== undefined) close(fd);
    return new Error(`Cannot listen on ${entry}: ${call}: ${e.text}`);
  };
  const family = new DataView(addr.buffer).getUint16(0, true);
  const fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (dualStack && lastError().errno === EAFNOSUPPORT) return undefined;
    throw fail("socket");
  }
  const int = (v: number) => new Uint8Array(new Int32Array([v]).buffer);
  if (family === AF_INET || family === AF_INET6) {
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, int(1), 4) !== 0) {
      throw fail("setsockopt SO_REUSEADDR", fd);
    }
  }
  if (dualStack && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, int(0), 4) !== 0) {
    throw fail("setsockopt IPV6_V6ONLY", fd);
  }
  if (bind(fd, addr, addr.length) !== 0) {
    if (dualStack && lastError().errno === EADDRNOTAVAIL) {
      close(fd);
      return undefined;
    }
    throw fail("bind", fd);
  }
  if (listen(fd, BACKLOG) !== 0) throw fail("listen", fd);
  return moveHigh(fd);
}

/**
 * Makes way for a unix socket at path: nothing there is fine; a socket file nobody
 * listens on (left by a ysco that ended) is removed; a socket someone listens on,
 * or anything that is not a socket, is refused.
 */
async function clearUnixPath(path: string, entry: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw new Error(`Cannot listen on ${entry}: ${errorMessage(err)}`, { cause: err });
  }
  if (!info.isSocket) {
    throw new Error(
      `Cannot listen on ${entry}: ${path} exists and is not a socket; remove it or choose another path`,
    );
  }
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
  } catch {
    // Nobody listens: a stale socket file.
    await Deno.remove(path);
    return;
  }
  throw new Error(`Cannot listen on ${entry}: another process listens on ${path}`);
}
