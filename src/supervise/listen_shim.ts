/**
 * The command line that hands ysco's listening sockets to the service as fds 3..
 * with systemd's socket-activation variables. Deno.Command cannot place a descriptor
 * at a chosen number, and LISTEN_PID must be the pid of the service, known only in
 * the child: so the child is a shell that moves the descriptors into place, exports
 * LISTEN_PID=$$ and execs the service (or setpriv, which execs it), keeping its pid.
 * bash, because POSIX sh (dash) cannot name descriptors above 9; in POSIX mode, so
 * that it reads no startup file (BASH_ENV) and no exported function replaces
 * `exec`. Why not FFI (posix_spawn, fork): docs/listen.md.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

/** The shell of the shim: bash is on every Debian system and macOS. */
export const SHIM_SHELL = "/bin/bash";
/** argv[0] of the shim, as ps shows it for its moment. */
export const SHIM_NAME = "ysco-listen";

/** A program and its arguments. */
export interface CommandLine {
  program: string;
  args: string[];
}

/**
 * Wraps a command line so that the descriptors fds become 3, 4, ... in the service,
 * in order, and the originals are closed.
 * @throws Error when a descriptor lies where the service's fds go
 */
export function shimCommandLine(line: CommandLine, fds: readonly number[]): CommandLine {
  for (const fd of fds) {
    if (!Number.isInteger(fd) || fd < 3 + fds.length) {
      throw new Error(`Cannot hand descriptor ${fd} to the service: it lies among fds 3..`);
    }
  }
  const moves = fds.map((fd, i) => `${3 + i}<&${fd}`);
  const closes = fds.map((fd) => `${fd}<&-`);
  const script = `exec ${[...moves, ...closes].join(" ")}; export LISTEN_PID=$$; exec "$@"`;
  return {
    program: SHIM_SHELL,
    args: ["--posix", "-c", script, SHIM_NAME, line.program, ...line.args],
  };
}

/**
 * The service's environment with the sockets' LISTEN_FDS and LISTEN_FDNAMES (the
 * shim adds LISTEN_PID); without sockets, none of the three.
 */
export function listenEnv(
  env: Record<string, string>,
  names: readonly string[],
): Record<string, string> {
  const { LISTEN_PID: _, LISTEN_FDS: __, LISTEN_FDNAMES: ___, ...rest } = env;
  if (names.length === 0) return rest;
  return { ...rest, LISTEN_FDS: String(names.length), LISTEN_FDNAMES: names.join(":") };
}
