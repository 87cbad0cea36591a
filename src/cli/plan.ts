/**
 * `ysco plan [-json] [-dir DIR] BINARY`: a dry run of the update decision. Runs
 * discovery for the binary's module with the settings of DIR/ysco.toml, applies the
 * policies and the schedule to the state in DIR, and prints what would be installed,
 * when and why, or why nothing would. Changes nothing.
 *
 * @module
 */

import { BuildInfoError, readBuildInfo } from "../buildinfo/mod.ts";
import { readConfigOrDefaults } from "../config/load.ts";
import { ConfigError } from "../config/parse.ts";
import { planUpdate } from "../decide/plan.ts";
import { policiesFor } from "../decide/policy.ts";
import { discoverModule, discoverToolchains, DiscoveryError } from "../discover/mod.ts";
import { errorMessage, UsageError } from "../errors.ts";
import { readState, StateError } from "../state/state.ts";
import { serviceInfo } from "../update/types.ts";
import type { Command } from "./command.ts";
import { formatFlags, parseFlags } from "./flags.ts";

const FLAGS = {
  json: { type: "boolean", help: "print the plan as one JSON object" },
  dir: {
    type: "string",
    help: "directory with ysco.toml and state.json (defaults and an empty state when absent)",
    value: "DIR",
    default: "ys",
  },
} as const;

/** The plan command. */
export const planCommand: Command = {
  name: "plan",
  usage: `usage: ysco plan [-json] [-dir DIR] BINARY

Shows what "ysco run" would do for the Go binary BINARY: looks up new versions and
toolchains with the [monitor] settings of DIR/ysco.toml, applies the [policy] and
[update] settings to the scheduled updates, backoff and pause of DIR/state.json, and
prints what would be installed, when (in the schedule's time zone and from now) and
why, or why nothing would. Nothing is changed. Exits 0 when discovery answered.

flags:
${formatFlags(FLAGS)}`,
  async run(args, io) {
    const { flags, rest } = parseFlags(args, FLAGS, { stopAtOperand: false });
    if (rest.length !== 1) {
      throw new UsageError(
        rest.length === 0 ? "missing BINARY" : `unexpected argument "${rest[1]}"`,
      );
    }
    const file = rest[0] ?? "";
    try {
      const config = await readConfigOrDefaults(flags.dir);
      const state = await readState(flags.dir);
      const svc = serviceInfo(await readBuildInfo(file));
      if (svc.version === "" || svc.version === "(devel)") {
        io.err(
          `ysco plan: ${file}: version unknown (${
            svc.version || "empty"
          }), so no version is newer\n`,
        );
        return 1;
      }
      const policy = policiesFor(config.policy, "svc");
      const [toolchains, module] = await Promise.all([
        discoverToolchains({ monitor: config.monitor }).catch((err) => err as Error),
        discoverModule(svc.modPath, {
          monitor: config.monitor,
          current: svc.version,
          policy: policy.version,
        })
          .catch((err) => err as Error),
      ]);
      if (module instanceof Error) {
        io.err(`ysco plan: looking up versions of ${svc.modPath}: ${errorMessage(module)}\n`);
        return 1;
      }
      const plan = planUpdate({
        target: { which: "svc", modPath: svc.modPath, pkgDir: svc.pkgDir },
        running: { version: svc.version, goVersion: svc.goVersion },
        found: {
          versions: module.versions,
          toolchains: toolchains instanceof Error
            ? { cur: "", prev: "", next: "" }
            : toolchains.toolchains,
        },
        policy,
        update: config.update,
        state,
        now: Date.now(),
      });
      if (flags.json) {
        io.out(
          JSON.stringify(
            {
              module: svc.modPath,
              running: { version: svc.version, goVersion: svc.goVersion },
              versions: module.versions.map((v) => v.version),
              toolchains: toolchains instanceof Error ? null : toolchains.toolchains,
              toolchainsError: toolchains instanceof Error ? errorMessage(toolchains) : null,
              newMajor: module.newMajor
                ? { module: module.newMajor.module, version: module.newMajor.version.version }
                : null,
              ...plan,
              next: plan.next
                ? {
                  ...plan.next,
                  earliest: new Date(plan.next.earliest).toISOString(),
                  latest: new Date(plan.next.latest).toISOString(),
                }
                : null,
            },
            null,
            2,
          ) + "\n",
        );
        return 0;
      }
      const lines = [
        `${file}: ${svc.modPath} ${svc.version} ${svc.goVersion} (policy ${policy.version}, toolchain ${policy.toolchain})`,
        `Found: ${
          module.versions.slice(0, 8).map((v) => v.version).join(", ") || "no versions"
        } (by ${module.method})`,
      ];
      if (toolchains instanceof Error) {
        lines.push(`Go toolchains: lookup failed: ${errorMessage(toolchains)}`);
      } else {
        const t = toolchains.toolchains;
        lines.push(
          `Go toolchains: current ${t.cur || "-"}, previous ${t.prev || "-"}${
            t.next ? `, next ${t.next}` : ""
          }`,
        );
      }
      if (module.newMajor) {
        lines.push(
          `A new major version exists: ${module.newMajor.module} ${module.newMajor.version.version} (never installed automatically)`,
        );
      }
      io.out([...lines, "", plan.summary, ""].join("\n"));
      return 0;
    } catch (err) {
      if (
        err instanceof BuildInfoError || err instanceof StateError || err instanceof ConfigError
      ) {
        io.err(`ysco plan: ${err.message}\n`);
        return 1;
      }
      if (err instanceof DiscoveryError || err instanceof TypeError) {
        io.err(`ysco plan: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};
