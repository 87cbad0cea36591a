/**
 * The resolvers ysco asks: `monitor.resolver` when set, else the `nameserver` lines
 * of /etc/resolv.conf.
 *
 * @module
 */

/** Where the system's resolver configuration lives. */
export const RESOLV_CONF = "/etc/resolv.conf";

/**
 * The nameservers of resolv.conf text as "host:port" (IPv6 as "[addr]:53"), in
 * order. Returns ["127.0.0.1:53"] when there are none, as the C library and Go do.
 */
export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const fields = line.replace(/[#;].*$/, "").trim().split(/\s+/);
    if (fields[0] !== "nameserver" || fields[1] === undefined) continue;
    const addr = fields[1];
    out.push(addr.includes(":") ? `[${addr}]:53` : `${addr}:53`);
  }
  return out.length > 0 ? out : ["127.0.0.1:53"];
}

/**
 * The resolvers to use: the configured one, else those of /etc/resolv.conf.
 * @param configured `monitor.resolver` ("" when unset)
 */
export async function systemResolvers(configured: string, file = RESOLV_CONF): Promise<string[]> {
  if (configured !== "") return [configured];
  let text = "";
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return parseResolvConf(text);
}
