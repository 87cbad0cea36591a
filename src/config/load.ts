/**
 * Reads `<dir>/ysco.toml` and the admin password file it names, as `ysco run`,
 * `ysco testconfig` and the admin page's config editor do.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import { errorMessage } from "../errors.ts";
import { type Config, CONFIG_SCHEMA } from "./config.ts";
import { valueAt } from "./key_flags.ts";
import {
  ConfigError,
  type ConfigIssue,
  defaultOf,
  formatIssue,
  keyLines,
  parseConfig,
} from "./parse.ts";

/** A validated configuration and the admin password from its auth file. */
export interface LoadedConfig {
  config: Config;
  password: string;
  /** What is allowed but unwise, located like errors ("ys/ysco.toml:1: auth_file: ..."). */
  warnings: string[];
}

/** Passwords shorter than this get a warning. */
export const MIN_PASSWORD_LENGTH = 12;

/** A warning about a weak admin password, or undefined. */
export function passwordWarning(password: string): string | undefined {
  return [...password].length < MIN_PASSWORD_LENGTH
    ? `the admin password is shorter than ${MIN_PASSWORD_LENGTH} characters; use a longer ` +
      "one (ysco init makes 16 random letters and digits)"
    : undefined;
}

/** The files the configuration names, read by `ysco run` at start. */
const FILE_KEYS = [
  "fleet.password_file",
  "fleet.ca_file",
  "fleet.cert_file",
  "fleet.key_file",
] as const;

/**
 * The one validation of a configuration, used by `ysco run`, `ysco testconfig` and
 * the admin page: parses the text, reads the password file of auth_file and checks
 * that every other file it names is readable (relative to cwd), so that what passes
 * here also starts.
 * @param source the file name for messages
 * @throws ConfigError for any problem, located
 */
export async function validateConfig(
  text: string,
  source: string,
  cwd = Deno.cwd(),
): Promise<LoadedConfig> {
  const config = parseConfig(text, source);
  const lines = keyLines(text);
  const issue = (path: string, message: string): ConfigIssue => {
    const line = lines.get(path);
    return { path, message, ...(line ? { line } : {}) };
  };
  const resolve = (file: string) => isAbsolute(file) ? file : join(cwd, file);
  const issues: ConfigIssue[] = [];
  let content = "";
  try {
    content = await Deno.readTextFile(resolve(config.auth_file));
  } catch (err) {
    issues.push(issue(
      "auth_file",
      `cannot read password file "${config.auth_file}": ${errorMessage(err)}`,
    ));
  }
  const password = content.replace(/[\r\n]+$/, "");
  if (issues.length === 0 && password === "") {
    issues.push(issue("auth_file", `password file "${config.auth_file}" is empty`));
  }
  for (const path of FILE_KEYS) {
    const file = String(valueAt(config, path));
    if (file === "") continue;
    try {
      await Deno.readFile(resolve(file));
    } catch (err) {
      issues.push(issue(path, `cannot read "${file}": ${errorMessage(err)}`));
    }
  }
  if (issues.length > 0) throw new ConfigError(source, issues);
  const weak = passwordWarning(password);
  const warnings = weak === undefined ? [] : [formatIssue(source, issue("auth_file", weak))];
  return { config, password, warnings };
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
 * fetch, systemd-unit): the file parsed when it exists (auth_file may be absent, its
 * password file is not read), the defaults when it does not.
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
  return parseConfig(text, file, { partial: true });
}
