/**
 * The brute-force limit of the admin password: per client, a few failed logins are
 * free, then each further failure makes the client wait before its next attempt,
 * twice as long each time up to a cap; a success forgets the client. While it waits,
 * the client's attempts are refused without checking the password, right or wrong.
 *
 * Clients are keyed by address: an IPv4 address, or the /64 prefix of an IPv6
 * address (one host usually owns a whole /64). The table is bounded: clients quiet
 * for `forgetMs` are dropped, and the oldest go first when it is full.
 *
 * Pure: every method takes the time.
 *
 * @module
 */

/** Settings of the limiter. */
export interface LoginLimits {
  /** Failures without a wait. */
  freeFailures: number;
  /** The wait after the first failure beyond the free ones, ms; it doubles with each further one. */
  firstDelayMs: number;
  /** The longest wait, ms. */
  maxDelayMs: number;
  /** A client without failures for this long starts over, ms. */
  forgetMs: number;
  /** Clients tracked at most. */
  maxClients: number;
}

/** ysco's limits: 5 free failures, then 1 s, 2 s, 4 s, ... up to 5 minutes. */
export const LOGIN_LIMITS: LoginLimits = {
  freeFailures: 5,
  firstDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
  forgetMs: 60 * 60_000,
  maxClients: 10_000,
};

interface Client {
  failures: number;
  last: number;
  until: number;
}

/** Failed logins per client, and the wait they impose. */
export class LoginLimiter {
  #limits: LoginLimits;
  #clients = new Map<string, Client>();

  /** @param limits overrides of LOGIN_LIMITS */
  constructor(limits: Partial<LoginLimits> = {}) {
    this.#limits = { ...LOGIN_LIMITS, ...limits };
  }

  /** How long the client must still wait before its next attempt, ms; 0 when it may try. */
  wait(client: string, now: number): number {
    const c = this.#clients.get(clientKey(client));
    return c === undefined ? 0 : Math.max(0, c.until - now);
  }

  /**
   * Records a failed login.
   * @returns the wait it imposes, ms (0 while failures are free)
   */
  failed(client: string, now: number): number {
    const key = clientKey(client);
    const old = this.#clients.get(key);
    const known = old !== undefined && now - old.last < this.#limits.forgetMs;
    const failures = (known ? old.failures : 0) + 1;
    const beyond = failures - this.#limits.freeFailures;
    const delay = beyond <= 0
      ? 0
      : Math.min(this.#limits.maxDelayMs, this.#limits.firstDelayMs * 2 ** (beyond - 1));
    // Re-inserted, so that the map's order is the order of last failure.
    this.#clients.delete(key);
    this.#clients.set(key, { failures, last: now, until: now + delay });
    this.#prune(now);
    return delay;
  }

  /** Forgets the client's failures after a successful login. */
  succeeded(client: string): void {
    this.#clients.delete(clientKey(client));
  }

  /** Failures recorded for the client (0 when unknown or forgotten). */
  failures(client: string, now: number): number {
    const c = this.#clients.get(clientKey(client));
    return c === undefined || now - c.last >= this.#limits.forgetMs ? 0 : c.failures;
  }

  /** Clients tracked now. */
  get size(): number {
    return this.#clients.size;
  }

  #prune(now: number): void {
    for (const [key, c] of this.#clients) {
      const stale = now - c.last >= this.#limits.forgetMs && c.until <= now;
      if (!stale && this.#clients.size <= this.#limits.maxClients) break;
      this.#clients.delete(key);
    }
  }
}

/** The key of a client address: IPv4 as it is, IPv6 by its /64 prefix. */
export function clientKey(address: string): string {
  if (!address.includes(":")) return address;
  const groups = expandIPv6(address.replace(/%.*$/, ""));
  return groups === undefined ? address : `${groups.slice(0, 4).join(":")}::/64`;
}

function expandIPv6(address: string): string[] | undefined {
  const [head = "", tail, extra] = address.split("::");
  if (extra !== undefined) return undefined;
  const a = head === "" ? [] : head.split(":");
  const b = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - a.length - b.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined;
  const groups = [...a, ...Array<string>(missing).fill("0"), ...b];
  return groups.map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""));
}
