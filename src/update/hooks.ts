/**
 * The `update.before` and `update.after` commands: run by /bin/sh with the update's
 * versions in the environment, their output going where ysco's goes.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";

/** Longest a hook may run before it is killed and counted as failed. */
export const HOOK_TIMEOUT_MS = 5 * 60_000;

/** Options for runHook. */
export interface HookOptions {
  /** Longest it may run, ms. @default HOOK_TIMEOUT_MS */
  timeoutMs?: number;
  /** Kills it at once (ysco is stopping). */
  signal?: AbortSignal;
}

/**
 * Runs a hook command; returns undefined on success, else why it failed.
 * @param env variables added to ysco's environment
 */
export async function runHook(
  command: string,
  env: Record<string, string>,
  options: HookOptions = {},
): Promise<string | undefined> {
  const timeoutMs = options.timeoutMs ?? HOOK_TIMEOUT_MS;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("/bin/sh", {
      args: ["-c", command],
      env,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (err) {
    return `cannot start: ${errorMessage(err)}`;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort = () => {};
  const timeout = new Promise<"timeout" | "aborted">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
    onAbort = () => resolve("aborted");
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
  });
  const result = await Promise.race([child.status, timeout]);
  clearTimeout(timer);
  options.signal?.removeEventListener("abort", onAbort);
  if (result === "timeout" || result === "aborted") {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited meanwhile
    }
    await child.status;
    return result === "aborted"
      ? "killed: ysco is stopping"
      : `did not finish within ${timeoutMs / 1000}s`;
  }
  return result.success ? undefined : `exited with status ${result.code}`;
}
