/**
 * HOST:PORT, the one parser for every address ysco is given: the listen addresses of
 * `-addr`, `-adminaddr` and `-metricsaddr` (run, init, systemd-unit), the resolver
 * of `monitor.resolver` and etcd endpoints without a scheme. IPv6 addresses are
 * bracketed ("[::1]:53"), as in Go's net.JoinHostPort.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

/** An address split into host and port. */
export interface HostPort {
  /** The host without brackets: a name, an IPv4 or IPv6 address; "" for every interface. */
  host: string;
  /** 1-65535. */
  port: number;
}

/** Options for parseHostPort. */
export interface HostPortOptions {
  /** Whether ":PORT" (every interface, for listening) is accepted. @default false */
  emptyHost?: boolean;
}

/**
 * The problem with an address as HOST:PORT, or undefined when it is one. Used for
 * error messages: "not HOST:PORT (IPv6 as [ADDR]:PORT)", "port 99999 out of range
 * 1-65535".
 */
export function hostPortProblem(addr: string, options: HostPortOptions = {}): string | undefined {
  const parsed = split(addr, options);
  return typeof parsed === "string" ? parsed : undefined;
}

/**
 * Splits HOST:PORT.
 * @throws TypeError naming the address and what is wrong with it
 */
export function parseHostPort(addr: string, options: HostPortOptions = {}): HostPort {
  const parsed = split(addr, options);
  if (typeof parsed === "string") {
    throw new TypeError(`Cannot use address "${addr}": ${parsed}`);
  }
  return parsed;
}

/** HOST:PORT from its parts, with brackets around an IPv6 address. */
export function formatHostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

function split(addr: string, options: HostPortOptions): HostPort | string {
  const m = /^(?:\[([0-9a-fA-F:.]*:[0-9a-fA-F:.]*(?:%[\w.-]+)?)\]|([^:\[\]\s/@?#%]*)):([0-9]+)$/
    .exec(addr);
  if (m === null) return "not HOST:PORT (IPv6 as [ADDR]:PORT)";
  const host = m[1] ?? m[2] ?? "";
  if (host === "" && !options.emptyHost) return "no host before the port";
  const digits = m[3] ?? "";
  const port = Number(digits);
  if (digits.length > 5 || port < 1 || port > 65535) return `port ${digits} out of range 1-65535`;
  return { host, port };
}
