/**
 * The `update.before` and `update.after` commands: run by /bin/sh with the update's
 * versions in the environment, their output going where ysco's goes.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";

/** Longest a hook may run before it is killed and counted as failed. */
export const HOOK_TIMEOUT_MS = 5 * 60_000;

/**
 * Runs a hook command; returns undefined on success, else why it failed.
 * @param env variables added to ysco's environment
 */
export async function runHook(
  command: string,
  env: Record<string, string>,
  timeoutMs = HOOK_TIMEOUT_MS,
): Promise<string | undefined> {
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
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const result = await Promise.race([child.status, timeout]);
  clearTimeout(timer);
  if (result === "timeout") {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited meanwhile
    }
    await child.status;
    return `did not finish within ${timeoutMs / 1000}s`;
  }
  return result.success ? undefined : `exited with status ${result.code}`;
}
