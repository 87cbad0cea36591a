/**
 * Reads `<dir>/ysco.toml` and the admin password file it names, as `ysco run`,
 * `ysco testconfig` and the admin page's config editor do.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import { errorMessage } from "../errors.ts";
import { type Config, CONFIG_SCHEMA } from "./config.ts";
import { ConfigError, defaultOf, keyLines, parseConfig } from "./parse.ts";

/** A validated configuration and the admin password from its auth file. */
export interface LoadedConfig {
  config: Config;
  password: string;
}

/**
 * Parses configuration text and reads its auth file (relative to cwd).
 * @param source the file name for messages
 * @throws ConfigError for any problem, located
 */
export async function validateConfig(
  text: string,
  source: string,
  cwd = Deno.cwd(),
): Promise<LoadedConfig> {
  const config = parseConfig(text, source);
  const path = isAbsolute(config.auth_file) ? config.auth_file : join(cwd, config.auth_file);
  const line = keyLines(text).get("auth_file");
  const fail = (message: string): never => {
    throw new ConfigError(source, [{ path: "auth_file", message, ...(line ? { line } : {}) }]);
  };
  let content = "";
  try {
    content = await Deno.readTextFile(path);
  } catch (err) {
    fail(`cannot read password file "${config.auth_file}": ${errorMessage(err)}`);
  }
  const password = content.replace(/[\r\n]+$/, "");
  if (password === "") fail(`password file "${config.auth_file}" is empty`);
  return { config, password };
}

/**
 * Reads and validates a configuration file.
 * @throws ConfigError for a missing, unreadable or invalid file
 */
export async function loadConfig(file: string, cwd = Deno.cwd()): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(isAbsolute(file) ? file : join(cwd, file));
  } catch (err) {
    throw new ConfigError(file, [{
      path: "",
      message: `cannot read configuration: ${errorMessage(err)}`,
    }]);
  }
  return await validateConfig(text, file, cwd);
}

/** The configuration with every key at its default. */
export function defaultConfig(): Config {
  return Object.fromEntries(
    Object.entries(CONFIG_SCHEMA).map(([key, field]) => [key, defaultOf(field)]),
  ) as Config;
}

/**
 * The settings of `<dir>/ysco.toml` for tools that only read them (check, plan,
 * fleet): the file parsed when it exists (its password file is not read), the
 * defaults when it does not.
 * @throws ConfigError for an unreadable or invalid file
 */
export async function readConfigOrDefaults(dir: string): Promise<Config> {
  const file = join(dir, "ysco.toml");
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return defaultConfig();
    throw new ConfigError(file, [{
      path: "",
      message: `cannot read configuration: ${errorMessage(err)}`,
    }]);
  }
  return parseConfig(text, file);
}
