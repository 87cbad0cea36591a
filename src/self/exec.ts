/**
 * What a self-update needs from the operating system that Deno does not offer,
 * through FFI to the C library (Linux): replacing the running program keeping its
 * pid (execve), waiting for a child the new program did not start (waitpid), and
 * handing an open TCP connection to the new program (dup, write, close).
 *
 * @module
 */

const encoder = new TextEncoder();

const SYMBOLS = {
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32", nonblocking: true },
  dup: { parameters: ["i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  pthread_sigmask: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (Deno.build.os !== "linux") {
    throw new Error(`Cannot replace the running program on ${Deno.build.os}`);
  }
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

/** A NUL-terminated C string. */
function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** A NULL-terminated array of C string pointers; keep `keep` alive while it is used. */
function cStringArray(
  strings: readonly string[],
): { array: Uint8Array<ArrayBuffer>; keep: Uint8Array[] } {
  const keep = strings.map(cString);
  const pointers = new BigUint64Array(strings.length + 1);
  keep.forEach((b, i) => pointers[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b))));
  return { array: new Uint8Array(pointers.buffer), keep };
}

/**
 * Replaces the running program with path, keeping the pid, the children, stdin,
 * stdout and stderr. Only returns when it failed.
 * @returns the error
 */
export function execve(path: string, argv: readonly string[], env: Record<string, string>): Error {
  const fn = libc().execve;
  const args = cStringArray(argv);
  const envp = cStringArray(Object.entries(env).map(([k, v]) => `${k}=${v}`));
  const file = cString(path);
  fn(file, args.array, envp.array);
  // Still here: execve failed. Deno has no errno for FFI calls; say what is known.
  void args.keep;
  void envp.keep;
  return new Error(`Cannot execute ${path}: execve failed`);
}

/** SIGHUP, SIGINT and SIGTERM as a Linux sigset_t (128 bytes, bit n-1 for signal n). */
function stopSignalSet(): Uint8Array<ArrayBuffer> {
  const set = new Uint8Array(128);
  set[0] = (1 << (1 - 1)) | (1 << (2 - 1)); // SIGHUP, SIGINT
  set[1] = 1 << (15 - 1 - 8); // SIGTERM
  return set;
}

const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;

/**
 * Blocks SIGHUP, SIGINT and SIGTERM in the calling thread, right before an exec: a
 * stop signal that arrives during the exec then stays pending for the new program
 * (a blocked mask and pending signals survive execve) instead of killing it before
 * it listens for signals.
 */
export function blockStopSignals(): void {
  if (Deno.build.os !== "linux") return;
  libc().pthread_sigmask(SIG_BLOCK, stopSignalSet(), null);
}

/**
 * Unblocks what blockStopSignals blocked: in the new program once it listens for
 * signals (a pending stop is delivered now), or after a failed exec.
 */
export function unblockStopSignals(): void {
  if (Deno.build.os !== "linux") return;
  libc().pthread_sigmask(SIG_UNBLOCK, stopSignalSet(), null);
}

/** How a waited-for child ended: exit code (128 + signal when killed) and signal. */
export interface WaitStatus {
  code: number;
  signal: Deno.Signal | null;
}

/**
 * Waits (in a thread of its own) for the child pid to end and returns its status;
 * works for children started by the program before an exec.
 * @throws Error when pid is not a child of this process
 */
export async function waitChild(pid: number): Promise<WaitStatus> {
  const status = new Int32Array(1);
  for (;;) {
    const r = await libc().waitpid(pid, new Uint8Array(status.buffer), 0);
    if (r === pid) break;
    if (r === -1) throw new Error(`Cannot wait for process ${pid}: not a child of this process`);
  }
  const s = status[0] ?? 0;
  const sig = s & 0x7f;
  if (sig === 0) return { code: (s >> 8) & 0xff, signal: null };
  return { code: 128 + sig, signal: SIGNAL_NAMES[sig] ?? null };
}

/** Duplicates a descriptor; the copy is inherited across exec (no close-on-exec). */
export function dupInheritable(fd: number): number {
  const copy = libc().dup(fd);
  if (copy < 0) throw new Error(`Cannot duplicate descriptor ${fd}`);
  return copy;
}

/** Writes all of data to a raw descriptor and closes it. */
export function writeAndClose(fd: number, data: string): void {
  const bytes = encoder.encode(data);
  const { write, close } = libc();
  let done = 0;
  while (done < bytes.length) {
    const n = Number(write(fd, bytes.subarray(done), BigInt(bytes.length - done)));
    if (n <= 0) break;
    done += n;
  }
  close(fd);
}

/**
 * Finds this process's descriptor of the TCP connection on localPort with the
 * client remote (as the server saw it): among the descriptors in /proc/self/fd that
 * are sockets, the one whose getsockname and getpeername say so. (/proc/net/tcp
 * would tell too, but Deno lets only --allow-all programs read it.)
 */
export function findConnectionFd(
  localPort: number,
  remote: { hostname: string; port: number },
): number | undefined {
  const { getsockname, getpeername } = libc();
  const want = normalize(remote.hostname);
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    const fd = Number(entry.name);
    try {
      if (!Deno.readLinkSync(`/proc/self/fd/${entry.name}`).startsWith("socket:")) continue;
    } catch {
      continue; // closed meanwhile
    }
    const local = socketAddress(getsockname, fd);
    if (local === undefined || local.port !== localPort) continue;
    const peer = socketAddress(getpeername, fd);
    if (peer !== undefined && peer.port === remote.port && peer.host === want) return fd;
  }
  return undefined;
}

type AddressCall = (
  fd: number,
  addr: Uint8Array<ArrayBuffer>,
  len: Uint8Array<ArrayBuffer>,
) => number;

/** The IPv4 or IPv6 address and port getsockname or getpeername gives for fd. */
function socketAddress(call: AddressCall, fd: number): { host: string; port: number } | undefined {
  const addr = new Uint8Array(128);
  const len = new Uint32Array([addr.length]);
  if (call(fd, addr, new Uint8Array(len.buffer)) !== 0) return undefined;
  const view = new DataView(addr.buffer);
  const family = view.getUint16(0, true);
  const port = view.getUint16(2, false);
  if (family === 2) return { host: [...addr.subarray(4, 8)].join("."), port }; // AF_INET
  if (family === 10) { // AF_INET6
    const groups: string[] = [];
    for (let i = 8; i < 24; i += 2) groups.push(view.getUint16(i, false).toString(16));
    return { host: normalize(groups.join(":")), port };
  }
  return undefined;
}

function normalize(host: string): string {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (!h.includes(":")) return h;
  if (h.includes(".")) return h.slice(h.lastIndexOf(":") + 1); // ::ffff:a.b.c.d
  // Expand IPv6 to eight groups without leading zeros, one canonical text.
  const [head = "", tail = ""] = h.split("::");
  const a = head === "" ? [] : head.split(":");
  const b = tail === "" ? [] : tail.split(":");
  const full = h.includes("::") ? [...a, ...Array(8 - a.length - b.length).fill("0"), ...b] : a;
  const text = full.map((g) => parseInt(g, 16).toString(16)).join(":");
  // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address.
  const mapped = /^0:0:0:0:0:ffff:([0-9a-f]+):([0-9a-f]+)$/.exec(text);
  if (mapped) {
    const hi = parseInt(mapped[1] ?? "0", 16);
    const lo = parseInt(mapped[2] ?? "0", 16);
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
  }
  return text;
}

const SIGNAL_NAMES: Record<number, Deno.Signal> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  6: "SIGABRT",
  9: "SIGKILL",
  10: "SIGUSR1",
  11: "SIGSEGV",
  12: "SIGUSR2",
  13: "SIGPIPE",
  14: "SIGALRM",
  15: "SIGTERM",
};
