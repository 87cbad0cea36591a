/**
 * A systemd service unit that runs `ysco run` for a service, with hardening that
 * fits what ysco does: it writes only in its working directory (binaries, symlinks,
 * ys/), it needs no new privileges (dropping to -user through setpriv and passing
 * ambient capabilities both work under NoNewPrivileges), and as root with -user it
 * needs only the capabilities to switch users and to manage the service's files and
 * process.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import { formatDuration } from "../duration.ts";

/** What the unit runs. */
export interface UnitOptions {
  /** The service's name: the unit is `<name>.service`. */
  name: string;
  /** Absolute path of the ysco executable (the `ysco` symlink, for self-updates). */
  ysco: string;
  /** ysco's arguments: `run [flags] CMD [ARGS...]`. */
  args: string[];
  /** Absolute working directory: where CMD and ys/ are. */
  workingDirectory: string;
  /** Absolute directories ysco writes to: the working directory, ys/, CMD's directory. */
  writablePaths: string[];
  /** The service's user (-user), when ysco starts it as another user. */
  user?: string;
  /** Capability names the service keeps (process.ambient_capabilities), e.g. "CAP_NET_BIND_SERVICE". */
  capabilities: string[];
  /** update.stop_timeout: how long ysco waits for the service to stop. */
  stopTimeoutMs: number;
  /** Deno's cache directory, when ysco runs from source through deno (bin/ysco). */
  denoDir?: string;
  /** The command that writes the unit (its words, ysco's path first), for its header. */
  command: string[];
  /**
   * The addresses of process.listen as ListenStream= writes them: the service then
   * takes its sockets from `<name>.socket` (socketUnit) when that is installed.
   */
  listen?: string[];
}

/** What the socket unit holds. */
export interface SocketUnitOptions {
  /** The service's name: the unit is `<name>.socket`, for `<name>.service`. */
  name: string;
  /** Absolute working directory, for the header. */
  workingDirectory: string;
  /** The addresses of process.listen as ListenStream= writes them. */
  listen: string[];
  /** The command that writes the unit, for its header. */
  command: string[];
}

/** Capabilities ysco itself needs as root with -user: switch ids, signal and own files. */
export const YSCO_CAPABILITIES = [
  "CAP_SETUID",
  "CAP_SETGID",
  "CAP_KILL",
  "CAP_CHOWN",
  "CAP_FOWNER",
  "CAP_DAC_OVERRIDE",
];

/** Directories that ProtectHome=yes hides entirely. */
const HOME_DIRS = ["/home", "/root", "/run/user"];
/** Directories that PrivateTmp=yes replaces by empty ones. */
const TMP_DIRS = ["/tmp", "/var/tmp"];

/** Extra time systemd gives ysco beyond the service's stop timeout before killing. */
const STOP_MARGIN_MS = 15_000;

/** The unit file's text. */
export function systemdUnit(o: UnitOptions): string {
  const writable = minimalDirs([...o.writablePaths, ...(o.denoDir ? [o.denoDir] : [])]);
  const under = (dirs: string[]) =>
    writable.some((p) => dirs.some((d) => p === d || p.startsWith(d + "/")));
  const underHome = under(HOME_DIRS);
  const lines = [
    `# ${o.name}, supervised and kept up to date by ysco. Install it as root, in`,
    `# ${o.workingDirectory}:`,
    `#   ${o.command.map(shellQuote).join(" ")} >/etc/systemd/system/${o.name}.service`,
    "#   systemctl daemon-reload",
    `#   systemctl enable --now ${o.name}.service`,
    `# Then: systemctl status ${o.name}; journalctl -u ${o.name} -f`,
    "# Write it again after changing -user, the paths, update.stop_timeout or",
    "# process.ambient_capabilities.",
    "",
    "[Unit]",
    `Description=${escapeValue(o.name)}, kept up to date by ysco`,
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    `WorkingDirectory=${escapeValue(o.workingDirectory)}`,
    `ExecStart=${[o.ysco, ...o.args].map(systemdQuote).join(" ")}`,
    ...(o.denoDir
      ? [
        "# ysco runs from source through deno, which needs its module cache.",
        `Environment=${systemdQuote(`DENO_DIR=${o.denoDir}`)}`,
      ]
      : []),
    "# ysco restarts the service itself (and rolls back a failing update); systemd",
    "# restarts ysco when it fails.",
    "Restart=on-failure",
    "RestartSec=5s",
    "# A stop sends SIGTERM to ysco only; ysco stops the service (update.stop_timeout)",
    "# and exits; whatever is left is killed after TimeoutStopSec.",
    "KillMode=mixed",
    `TimeoutStopSec=${formatDuration(o.stopTimeoutMs + STOP_MARGIN_MS)}`,
    ...(o.listen !== undefined && o.listen.length > 0
      ? [
        `# The sockets of process.listen, from ${o.name}.socket when it is installed (ysco`,
        "# systemd-unit -socket): systemd holds them while ysco restarts, so that no",
        "# connection is refused. Without it ysco opens them itself.",
        `Sockets=${escapeValue(o.name)}.socket`,
      ]
      : []),
    "",
    "# Hardening. ysco writes only below ReadWritePaths: the binaries, symlinks and ys/.",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    `ReadWritePaths=${writable.map(systemdQuote).join(" ")}`,
    underHome ? "ProtectHome=read-only" : "ProtectHome=yes",
    under(TMP_DIRS)
      ? "# Not set: PrivateTmp=yes would hide the working directory below /tmp."
      : "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "RestrictNamespaces=yes",
    "LockPersonality=yes",
    "PrivateMounts=yes",
    "SystemCallArchitectures=native",
    "# Widen this if the service needs other kinds of sockets.",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    ...(o.user !== undefined
      ? [
        `# ysco runs as root to start the service as ${o.user}, who cannot replace the`,
        "# binaries; it keeps only the capabilities for that, and the service's own.",
        `CapabilityBoundingSet=${unique([...YSCO_CAPABILITIES, ...o.capabilities]).join(" ")}`,
      ]
      : [
        "# The service runs as root, like ysco. With -user USER, ysco starts it as USER,",
        "# who then cannot replace its binaries, and the unit drops unneeded capabilities.",
      ]),
    "# Not set: MemoryDenyWriteExecute=yes stops ysco's JavaScript engine, which",
    "# compiles code at run time.",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
  ];
  return lines.join("\n") + "\n";
}

/**
 * The socket unit for the service's listening sockets (process.listen): systemd
 * opens them once and passes them to ysco at every start, which hands them to every
 * service process; between a stop of ysco and its next start, the kernel queues the
 * connections.
 */
export function socketUnit(o: SocketUnitOptions): string {
  const lines = [
    `# The listening sockets of ${o.name} (process.listen), held by systemd and handed by`,
    `# ysco to the service. Install it as root next to ${o.name}.service, in`,
    `# ${o.workingDirectory}:`,
    `#   ${o.command.map(shellQuote).join(" ")} >/etc/systemd/system/${o.name}.socket`,
    "#   systemctl daemon-reload",
    `#   systemctl enable --now ${o.name}.socket`,
    `#   systemctl restart ${o.name}.service`,
    "# Write it again after changing process.listen. While this unit runs, a connection",
    `# starts ${o.name}.service when it is stopped.`,
    "",
    "[Unit]",
    `Description=Listening sockets of ${escapeValue(o.name)}, passed on by ysco`,
    "",
    "[Socket]",
    ...o.listen.map((l) => `ListenStream=${escapeValue(l)}`),
    "# ysco hands each socket on with the name of its process.listen entry.",
    ...(o.name.includes(":") ? [] : [`FileDescriptorName=${escapeValue(o.name)}`]),
    "Backlog=4096",
    `Service=${escapeValue(o.name)}.service`,
    "",
    "[Install]",
    "WantedBy=sockets.target",
  ];
  return lines.join("\n") + "\n";
}

/**
 * One word of a systemd command line (systemd.syntax "Quoting"): specifiers and
 * variables escaped (% as %%, $ as $$), quoted with C escapes when it has anything
 * but plain path characters.
 */
export function systemdQuote(word: string): string {
  const escaped = word.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  let out = '"';
  for (const ch of escaped) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

/** A word for a POSIX shell: as it is when plain, else in single quotes. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** A setting's value with specifiers escaped. */
function escapeValue(value: string): string {
  return value.replace(/%/g, "%%");
}

/** The paths without those inside another of them, in order. */
function minimalDirs(paths: string[]): string[] {
  const all = unique(paths.map((p) => p.replace(/(.)\/+$/, "$1")));
  return all.filter((p) => !all.some((q) => q !== p && (q === "/" || p.startsWith(q + "/"))));
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
