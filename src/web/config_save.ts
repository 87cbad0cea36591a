/**
 * "Save and apply" of the page's configuration editor: the new text passes the one
 * validation that `ysco run` and `ysco testconfig` use, must leave the host-only
 * keys as they are (docs/security.md), is written atomically and applied without
 * restarting the service. Keys read only at start apply at the next start; the page
 * says which.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { changedKeys, keysWith } from "../config/key_flags.ts";
import { type LoadedConfig, validateConfig } from "../config/load.ts";
import { ConfigError, parseConfig } from "../config/parse.ts";
import { writeFileAtomic } from "../state/atomic_file.ts";
import { errorMessage } from "../errors.ts";
import type { AdminActions } from "./actions.ts";
import { fail } from "./http_error.ts";

/** The keys only the file on the host may change. */
export const HOST_ONLY_KEYS: readonly string[] = keysWith("hostOnly");
/** The keys read only when ysco starts. */
export const AT_START_KEYS: readonly string[] = keysWith("atStart");

/**
 * Validates, checks, writes and applies a configuration from the page.
 * @returns the loaded configuration (with its password and warnings)
 * @throws HTTPException 400 for an invalid configuration or while an update runs,
 * 403 for a change of host-only keys, 500 when the file cannot be written
 */
export async function saveConfig(
  actions: AdminActions,
  configFile: string,
  submitted: string,
): Promise<LoadedConfig> {
  const text = submitted.replaceAll("\r\n", "\n");
  let loaded: LoadedConfig;
  try {
    loaded = await validateConfig(text, configFile);
  } catch (err) {
    if (err instanceof ConfigError) fail(400, `parsing new config:\n${err.message}`);
    throw err;
  }
  const changed = changedKeys(await baseline(actions, configFile), loaded.config, HOST_ONLY_KEYS);
  if (changed.length > 0) {
    fail(
      403,
      `cannot change ${changed.join(", ")} from the admin page: ${
        changed.length === 1 ? "it decides" : "they decide"
      } what runs commands or what is trusted; edit ${configFile} on the host ` +
        "(see docs/security.md)",
    );
  }
  if (actions.busy) fail(400, "update in progress, cannot apply a new configuration now");
  try {
    await writeFileAtomic(configFile, text);
  } catch (err) {
    fail(500, `saving config: ${errorMessage(err)}`);
  }
  actions.setConfig(loaded.config);
  return loaded;
}

/**
 * What host-only keys are compared with: the file as it is on the host (which the
 * page's editor shows), or the configuration in effect when the file does not parse.
 */
async function baseline(actions: AdminActions, configFile: string): Promise<Config> {
  try {
    return parseConfig(await Deno.readTextFile(configFile), configFile);
  } catch {
    return actions.status().config;
  }
}

/** Keys read at start whose values differ from those ysco started with. */
export function pendingRestart(started: Config, current: Config): string[] {
  return changedKeys(started, current, AT_START_KEYS);
}
