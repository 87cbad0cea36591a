/**
 * The path ysco was started as (its argv[0]): the `ysco` symlink or binary a systemd
 * unit names. A release build reads it from /proc/self/cmdline; bin/ysco, which runs
 * the program through `deno run`, passes it in YSCO_SELF.
 *
 * @module
 */

/** The environment variable through which the bin/ysco wrapper passes its own path. */
export const SELF_ENV = "YSCO_SELF";

/** How ysco was invoked: argv[0] of a release build, or the wrapper's path. */
export function selfPath(): string {
  const fromWrapper = Deno.env.get(SELF_ENV);
  if (fromWrapper) return fromWrapper;
  try {
    const argv0 = Deno.readTextFileSync("/proc/self/cmdline").split("\0")[0];
    if (argv0) return argv0;
  } catch {
    // Not Linux: fall back to the executable itself.
  }
  return Deno.execPath();
}
