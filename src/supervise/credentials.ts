/**
 * Running the service as another user (`-user`, `-groups`) with Linux ambient
 * capabilities: resolving names to ids, checking that the user can execute the
 * binary, and the command line that starts it.
 *
 * Deno.Command can set only the uid and gid. The service is therefore started
 * through util-linux `setpriv` (part of every Debian system), which sets uid, gid,
 * supplementary groups, inheritable and ambient capabilities and then execs the
 * service, keeping the pid: the service is still ysco's child and in its own process
 * group. (FFI with fork/exec from a JavaScript runtime is not safe; a helper
 * executable of our own would be another binary to ship.)
 *
 * @module
 */

import { dirname, isAbsolute, resolve } from "node:path";
import { errorMessage } from "../errors.ts";
import { capabilityName, parseCapability } from "./capabilities.ts";

/** Who the service runs as. */
export interface Credentials {
  uid: number;
  /** Primary group. */
  gid: number;
  /** Supplementary groups (the primary group usually among them). */
  groups: number[];
  /** User name when a system user exists, for logs. */
  user?: string;
}

/** Where a name or id was looked up: the system's user and group databases. */
export interface Accounts {
  /** Finds a user by name or uid: [name, uid, gid], or undefined. */
  user(nameOrId: string): Promise<{ name: string; uid: number; gid: number } | undefined>;
  /** Finds a group by name or gid. */
  group(nameOrId: string): Promise<{ name: string; gid: number } | undefined>;
  /** All group ids of a user (its primary group included). */
  groupsOf(name: string): Promise<number[]>;
}

/**
 * Resolves `-user` and `-groups` as the original does: a user name or uid (a uid
 * without a system user needs -groups, whose first group becomes the primary group);
 * groups by name or gid; without -groups, all the user's groups.
 * @throws Error with a message naming the bad value
 */
export async function resolveCredentials(
  userArg: string,
  groupsArg: string,
  accounts: Accounts = systemAccounts,
): Promise<Credentials> {
  const found = await accounts.user(userArg);
  let uid: number;
  if (found) {
    uid = found.uid;
  } else if (/^[0-9]+$/.test(userArg) && Number(userArg) <= 0xffffffff) {
    uid = Number(userArg);
  } else {
    throw new Error(`Cannot find user "${userArg}" and it is not a numeric uid`);
  }
  let groups: number[];
  if (groupsArg === "") {
    if (!found) {
      throw new Error(
        `Cannot run as uid ${uid} without a system user: give its groups with -groups`,
      );
    }
    groups = await accounts.groupsOf(found.name);
  } else {
    groups = [];
    for (const g of groupsArg.split(",")) {
      const group = await accounts.group(g);
      if (group) groups.push(group.gid);
      else if (/^[0-9]+$/.test(g) && Number(g) <= 0xffffffff) groups.push(Number(g));
      else throw new Error(`Cannot find group "${g}" and it is not a numeric gid`);
    }
  }
  const gid = found ? found.gid : groups[0];
  if (gid === undefined) throw new Error("Cannot run without a group: -groups is empty");
  return { uid, gid, groups, ...(found ? { user: found.name } : {}) };
}

/**
 * The command line that starts cmd with credentials and ambient capabilities:
 * `setpriv ... -- cmd args`, or cmd args unchanged without credentials.
 */
export function commandLine(
  cmd: string,
  args: readonly string[],
  credentials: Credentials | undefined,
  capabilities: readonly number[],
): { program: string; args: string[] } {
  if (credentials === undefined) return { program: cmd, args: [...args] };
  const setprivArgs = [
    `--reuid=${credentials.uid}`,
    `--regid=${credentials.gid}`,
    credentials.groups.length > 0 ? `--groups=${credentials.groups.join(",")}` : "--clear-groups",
  ];
  if (capabilities.length > 0) {
    const caps = capabilities.map((c) => `+${capabilityName(c).replace(/^CAP_/, "").toLowerCase()}`)
      .join(",");
    setprivArgs.push(`--inh-caps=${caps}`, `--ambient-caps=${caps}`);
  }
  return { program: SETPRIV, args: [...setprivArgs, "--", cmd, ...args] };
}

/** util-linux setpriv. */
export const SETPRIV = "/usr/bin/setpriv";

/** Parses the capability names or numbers of `process.ambient_capabilities`. */
export function parseCapabilities(values: readonly string[]): number[] {
  return values.map(parseCapability);
}

/** What a stat call says about a path, for permission checks. */
export interface PathMode {
  path: string;
  mode: number;
  uid: number;
  gid: number;
}

/** The result of checking a path for a user. */
export interface PathAccess {
  path: string;
  executable: boolean;
  writable: boolean;
}

/**
 * Checks execute and write permission of each path for the credentials, with the
 * classic owner/group/other selection (root has no special rights here: the service
 * runs as the given user).
 */
export function checkAccess(paths: readonly PathMode[], c: Credentials): PathAccess[] {
  return paths.map((p) => {
    const shift = p.uid === c.uid ? 6 : c.groups.includes(p.gid) || p.gid === c.gid ? 3 : 0;
    const bits = (p.mode >> shift) & 7;
    return { path: p.path, executable: (bits & 1) !== 0, writable: (bits & 2) !== 0 };
  });
}

/**
 * The binary and every directory above it, for the permission check: of the path as
 * given and of the file it resolves to (when it is a symlink), from "/" down.
 */
export async function pathsToCheck(cmd: string, cwd = Deno.cwd()): Promise<PathMode[]> {
  const abs = isAbsolute(cmd) ? cmd : resolve(cwd, cmd);
  const chains = [ancestry(abs)];
  const real = await Deno.realPath(abs);
  if (real !== abs) chains.push(ancestry(real));
  const seen = new Set<string>();
  const out: PathMode[] = [];
  for (const p of chains.flat()) {
    if (seen.has(p)) continue;
    seen.add(p);
    const st = await Deno.stat(p);
    out.push({ path: p, mode: st.mode ?? 0, uid: st.uid ?? 0, gid: st.gid ?? 0 });
  }
  return out;
}

function ancestry(path: string): string[] {
  const out = [path];
  for (let p = dirname(path);; p = dirname(p)) {
    out.unshift(p);
    if (p === dirname(p)) break;
  }
  return out;
}

/** The system's accounts through `getent` and `id`, which honour NSS (LDAP and the like). */
export const systemAccounts: Accounts = {
  async user(nameOrId) {
    const line = await getent("passwd", nameOrId);
    const f = line?.split(":");
    if (!f || f.length < 4) return undefined;
    return { name: f[0] ?? "", uid: Number(f[2]), gid: Number(f[3]) };
  },
  async group(nameOrId) {
    const line = await getent("group", nameOrId);
    const f = line?.split(":");
    if (!f || f.length < 3) return undefined;
    return { name: f[0] ?? "", gid: Number(f[2]) };
  },
  async groupsOf(name) {
    const out = await new Deno.Command("id", {
      args: ["-G", "--", name],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    if (!out.success) {
      throw new Error(
        `Cannot list the groups of user "${name}": ${new TextDecoder().decode(out.stderr).trim()}`,
      );
    }
    return new TextDecoder().decode(out.stdout).trim().split(/\s+/).map(Number);
  },
};

async function getent(db: string, key: string): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("getent", {
      args: [db, "--", key],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).split("\n")[0] : undefined;
  } catch (err) {
    throw new Error(`Cannot look up ${db} entry "${key}" with getent: ${errorMessage(err)}`);
  }
}
