/**
 * Linux capability names and numbers, for `process.ambient_capabilities`.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

/** Linux capabilities by name, in kernel order (linux/capability.h). */
export const CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

/** The highest capability number this table knows (CAP_LAST_CAP). */
export const CAP_LAST_CAP = CAPABILITIES.length - 1;

/**
 * Parses a capability given by name ("CAP_NET_BIND_SERVICE", case-insensitive, the
 * "CAP_" prefix optional) or number (decimal, 0x, 0o, 0b).
 * @throws RangeError naming the value
 */
export function parseCapability(value: string): number {
  const name = value.toUpperCase();
  const byName = CAPABILITIES.indexOf(name.startsWith("CAP_") ? name : `CAP_${name}`);
  if (byName !== -1) return byName;
  if (/^(0x[0-9a-f]+|0o[0-7]+|0b[01]+|[0-9]+)$/i.test(value)) {
    const n = Number(value.toLowerCase());
    if (n <= 63) return n;
    throw new RangeError(`Capability number ${value} is out of range 0-63`);
  }
  throw new RangeError(
    `Unknown capability "${value}" (use a name like CAP_NET_BIND_SERVICE or a number)`,
  );
}

/** The name of a capability number, or the number as text when unknown. */
export function capabilityName(n: number): string {
  return CAPABILITIES[n] ?? String(n);
}
