/**
 * ysco's configuration, `<dir>/ysco.toml`: the schema of every key, and the Config
 * type inferred from it. The meaning follows the original's ysco.conf (same keys in
 * snake_case, TOML instead of sconf).
 *
 * @module
 */

import { checkScheduleEntry } from "../decide/schedule.ts";
import { matchersProblem } from "../fleet/matchers.ts";
import { hostPortProblem } from "../host_port.ts";
import { parseCapability } from "../supervise/capabilities.ts";
import { listenEntryProblem } from "../supervise/listen_address.ts";
import { verifierKeyProblem } from "../verify/verifier_key.ts";
import {
  bool,
  duration,
  type Fields,
  int,
  string,
  strings,
  table,
  tables,
  type ValueOf,
} from "./schema.ts";

/** Version policies for the service's and ysco's own module. */
export const VERSION_POLICIES = ["patch", "minor", "manual"] as const;
/** A version policy. */
export type VersionPolicy = typeof VERSION_POLICIES[number];

/** Toolchain policies. */
export const TOOLCHAIN_POLICIES = ["follow", "patch", "minor", "supported", "manual"] as const;
/** A toolchain policy. */
export type ToolchainPolicy = typeof TOOLCHAIN_POLICIES[number];

/** Discovery methods. */
export const MONITOR_METHODS = ["dns", "goproxy"] as const;
/** A discovery method. */
export type MonitorMethod = typeof MONITOR_METHODS[number];

/** Log levels. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** A log level. */
export type LogLevel = typeof LOG_LEVELS[number];

/** The public gobuild instance's verifier key. */
export const DEFAULT_VERIFIER_KEY =
  "beta.gobuilds.org+3979319f+AReBl47t6/Zl24/pmarcKhJtsfAU2c1F5Wtu4hrOgOQQ";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The configuration schema, in the order `ysco config` prints it. */
export const CONFIG_SCHEMA = {
  log_level: string<LogLevel>({
    doc: "How much ysco logs: debug, info, warn or error.",
    default: "info",
    values: LOG_LEVELS,
  }),
  auth_file: string({
    doc: 'File with the password for the admin web interface (user "admin"), relative to ' +
      "the working directory. Trailing newlines are ignored. Required.",
    default: "",
    example: "ys/password.txt",
    hostOnly: true,
    required: true,
  }),
  monitor: table("Discovery of new module versions and Go toolchains.", {
    methods: strings<MonitorMethod>({
      doc: 'Discovery methods, tried in order until one answers: "dns" (gopherwatch TXT ' +
        'records, cheap) and "goproxy" (the Go module proxy\'s version lists).',
      default: ["dns", "goproxy"],
      values: MONITOR_METHODS,
      emptyAllowed: false,
    }),
    dns: string({
      doc: "Base domain of the gopherwatch DNS service.",
      default: "l.gopherwatch.org",
      check: checkDomain,
    }),
    resolver: string({
      doc: 'DNS resolver as "host:port" (e.g. "127.0.0.1:53"); empty: the nameservers of ' +
        "/etc/resolv.conf. A DNSSEC-validating resolver protects the answers.",
      default: "",
      example: "127.0.0.1:53",
      check: checkHostPort,
    }),
    goproxy: string({
      doc: "Go module proxy. The default answers only from its cache, never fetching from origin.",
      default: "https://proxy.golang.org/cached-only/",
      check: checkHttpUrl,
    }),
    goproxy_toolchain: string({
      doc: "Go module proxy for the golang.org/toolchain module; empty: the same as goproxy.",
      default: "",
      check: checkHttpUrl,
    }),
    delay: duration({
      doc: "Time after start before the first check.",
      default: MINUTE,
      zeroAllowed: true,
    }),
    interval: duration({
      doc: "Time between checks.",
      default: 24 * HOUR,
      min: MINUTE,
    }),
  }),
  policy: table("Which updates ysco installs by itself.", {
    service: string<VersionPolicy>({
      doc: 'New module versions of the service: "patch" (same major and minor), "minor" ' +
        '(same major) or "manual" (never automatically).',
      default: "patch",
      values: VERSION_POLICIES,
    }),
    self: string<VersionPolicy>({
      doc: "New versions of ysco itself: patch, minor or manual.",
      default: "patch",
      values: VERSION_POLICIES,
    }),
    service_toolchain: string<ToolchainPolicy>({
      doc: 'Go toolchain of the service: "follow" (the newest Go with every new release, ' +
        'and a supported Go when the current one goes out of support), "patch" (patch ' +
        'releases of the current Go), "minor" (always the newest Go), "supported" (like ' +
        'patch, moving to the previous Go when the current one is unsupported) or "manual".',
      default: "follow",
      values: TOOLCHAIN_POLICIES,
    }),
    self_toolchain: string<ToolchainPolicy>({
      doc: 'Go toolchain of ysco itself; ysco is not a Go program, so only "manual" and the ' +
        "default have effect.",
      default: "follow",
      values: TOOLCHAIN_POLICIES,
    }),
  }),
  update: table("When and how updates are installed.", {
    delay: duration({
      doc: "Time between discovering an update and installing it: others find the bad " +
        'releases first. At least 5s; "0s" installs at once.',
      default: 72 * HOUR,
      min: 5 * SECOND,
      zeroAllowed: true,
    }),
    schedule: strings({
      doc: 'When updates may be installed: day and hour ranges like "mo-fr 9-17", "sa-mo,we ' +
        '9-12", "18-21", "tu-th,sa" or with minutes "mo-fr 09:30-17:00"; empty means any time.',
      default: [],
      example: ["mo-fr 9-17", "sa 10-12"],
      check: checkScheduleEntry,
    }),
    timezone: string({
      doc: 'Time zone of the schedule, an IANA name like "Europe/Amsterdam"; empty: local time.',
      default: "",
      example: "Europe/Amsterdam",
      check: checkTimeZone,
    }),
    jitter: duration({
      doc: "Largest random extra wait before an update, so that a fleet does not update " +
        'at once; "0s" disables it.',
      default: HOUR,
      zeroAllowed: true,
    }),
    all: bool({
      doc: "Install every discovered update in turn, instead of replacing a pending update " +
        "by a newer one.",
      default: false,
    }),
    health_url: string({
      doc: 'URL ysco polls after starting a new version (e.g. "http://127.0.0.1:8080/healthz"): ' +
        "it must answer 2xx within health_timeout, else ysco rolls back. Empty: only the " +
        "rule that a new version must not exit within 5s applies.",
      default: "",
      example: "http://127.0.0.1:8080/healthz",
      check: checkHttpUrl,
    }),
    health_timeout: duration({
      doc: "How long a new version may take to answer health_url with 2xx.",
      default: 30 * SECOND,
      min: SECOND,
    }),
    soak: duration({
      doc: "How long a new version must stay up (and healthy, with health_url) before the " +
        "update counts as done and the next may start; a failure within it rolls back. " +
        "At least the 5s of the quick-exit rule.",
      default: 5 * SECOND,
      min: 5 * SECOND,
    }),
    before: string({
      doc: "Command (run by /bin/sh) before an update; a failure cancels the update. The " +
        "environment has YSCO_WHICH, YSCO_MODULE, YSCO_FROM_VERSION, YSCO_FROM_GOVERSION, " +
        "YSCO_TO_VERSION and YSCO_TO_GOVERSION.",
      hostOnly: true,
      default: "",
      example: "logger -t ysco about to update $YSCO_MODULE to $YSCO_TO_VERSION",
    }),
    after: string({
      doc: "Command (run by /bin/sh) after an update, with the same environment plus " +
        "YSCO_OUTCOME (installed, rolled back or failed) and YSCO_REASON.",
      hostOnly: true,
      default: "",
      example: "logger -t ysco update of $YSCO_MODULE: $YSCO_OUTCOME",
    }),
    stop_timeout: duration({
      doc: "How long to wait for the service to exit after SIGTERM before killing its " +
        "process group with SIGKILL.",
      default: 30 * SECOND,
      min: 100,
    }),
  }),
  gobuild: table("Where binaries come from: a gobuild service and its transparency log.", {
    verifier_key: string({
      doc: "Verifier key of the gobuild transparency log; every binary must be in this log.",
      hostOnly: true,
      default: DEFAULT_VERIFIER_KEY,
      check: verifierKeyProblem,
    }),
    base_url: string({
      doc: 'Base URL of the log (".../tlog"); empty: derived from the key\'s name ' +
        "(https://NAME/tlog).",
      hostOnly: true,
      default: "",
      example: "https://beta.gobuilds.org/tlog",
      check: checkHttpUrl,
    }),
    timeout: duration({
      doc: "Limit for each request to the log and for each download; gobuild may build a " +
        "binary on demand, which takes minutes.",
      default: 10 * MINUTE,
      min: SECOND,
    }),
  }),
  links: tables(
    "Links shown on the admin page, e.g. to a status page or runbook.",
    {
      url: string({ doc: "URL of the link.", default: "", required: true, check: checkHttpUrl }),
      text: string({ doc: "Text shown next to the link.", default: "" }),
    },
    [{ url: "https://status.example.com/", text: "status page" }],
  ),
  self: table("ysco's own updates, from a signed release feed (see docs/self-update.md).", {
    feed_url: string({
      doc: "URL of ysco's release feed; empty: ysco does not update itself.",
      hostOnly: true,
      default: "",
      example: "https://releases.example.com/ysco/feed",
      check: checkHttpUrl,
    }),
    verifier_key: string({
      doc: "Verifier key the feed must be signed with (NAME+HASH+KEY); required with feed_url.",
      hostOnly: true,
      default: "",
      example: "releases.example.com+b71dc7a1+ARCbl90em805I2h+g33vdOdPUKGf0Ij6JWsFGOa+MnwS",
      check: (key) => key === "" ? undefined : verifierKeyProblem(key),
    }),
  }),
  process: table("How the service is started.", {
    ambient_capabilities: strings({
      doc: "Linux capabilities the service keeps when started as another user (-user), " +
        'by name like "CAP_NET_BIND_SERVICE" or number.',
      default: [],
      example: ["CAP_NET_BIND_SERVICE"],
      check: checkCapability,
    }),
    listen: strings({
      doc: "Sockets ysco listens on for the service and hands to every service process as " +
        "fds 3.. with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES (systemd's socket " +
        "activation): during an update or a rollback new connections wait in the kernel's " +
        'queue instead of being refused. "tcp:HOST:PORT" (an IP address; "tcp::PORT" for ' +
        'every interface, IPv6 and IPv4) or "unix:PATH" (relative to the working ' +
        'directory; a stale socket file is replaced), optionally named: "http=tcp:...". ' +
        "Unnamed entries are named after the service binary. Sockets systemd passes to " +
        "ysco (a .socket unit, see ysco systemd-unit -socket) take the place of the entries " +
        "with their address. The service must take its listeners from fds 3.. (docs/listen.md " +
        "shows how in Go); Linux only.",
      default: [],
      example: ["http=tcp:127.0.0.1:8080", "unix:ys/app.sock"],
      check: listenEntryProblem,
    }),
  }, { hostOnly: true, atStart: true }),
  fleet: table(
    "Staged rollouts across many hosts running the same service, coordinated through etcd " +
      "(or a FleetLock server). Off unless etcd or fleetlock_url is set.",
    {
      etcd: strings<string>({
        doc: 'Client URLs of the etcd v3 cluster ("http://HOST:2379", "https://HOST:2379" or ' +
          '"HOST:PORT"); empty: no etcd. Requests fail over between them.',
        hostOnly: true,
        default: [],
        check: checkEndpoint,
      }),
      group: string({
        doc: "Rollout group: hosts in the same group share slots, canaries and halts " +
          "(letters, digits, dots and dashes, as FleetLock requires).",
        default: "default",
        check: (v) => /^[a-zA-Z0-9.-]+$/.test(v) ? undefined : "must match ^[a-zA-Z0-9.-]+$",
      }),
      id: string({
        doc: "This host's id, unique in the group; empty: the host name.",
        default: "",
        example: "web-1",
        check: (v) =>
          /^\S{0,253}$/.test(v) ? undefined : "must be at most 253 characters, no spaces",
      }),
      max_concurrent: int({
        doc: "How many hosts of the group may install an update at the same time.",
        default: 1,
        min: 1,
        max: 10000,
      }),
      canaries: int({
        doc: "How many hosts install a new version first; the others follow only after " +
          "these ran it healthily for the soak time. The canaries are chosen by a stable " +
          "hash of the host ids (`ysco fleet status` shows them); 0: no canaries.",
        default: 1,
        min: 0,
        max: 10000,
      }),
      soak: duration({
        doc: "How long the canaries must run a new version healthily before the other " +
          "hosts may install it.",
        default: HOUR,
        zeroAllowed: true,
      }),
      lease_ttl: duration({
        doc: "Lifetime of this host's etcd lease, renewed every third of it: when ysco " +
          "dies, its slot and its entry in the group disappear after this time.",
        default: 30 * SECOND,
        min: 2 * SECOND,
      }),
      username: string({
        doc: "etcd user, when etcd has authentication enabled; empty: none.",
        hostOnly: true,
        default: "",
        example: "ysco",
      }),
      password_file: string({
        doc: "File with the etcd user's password, relative to the working directory. " +
          "Trailing newlines are ignored.",
        hostOnly: true,
        default: "",
        example: "ys/etcd-password.txt",
      }),
      ca_file: string({
        doc: "PEM file with the CA certificates of etcd's server certificates; empty: the " +
          "system's roots. Setting it (or cert_file) makes HOST:PORT endpoints use https.",
        hostOnly: true,
        default: "",
      }),
      cert_file: string({
        doc: "PEM file with a client certificate for etcd (--client-cert-auth); empty: none.",
        hostOnly: true,
        default: "",
      }),
      key_file: string({
        doc: "PEM file with the client certificate's private key.",
        hostOnly: true,
        default: "",
      }),
      fleetlock_url: string({
        doc: "Base URL of a FleetLock server (as used by Zincati, e.g. airlock), instead of " +
          "etcd: hosts take and release slots with POST /v1/pre-reboot and " +
          "/v1/steady-state; canaries, soak and halts need etcd.",
        hostOnly: true,
        default: "",
        example: "",
        check: checkHttpUrl,
      }),
      alerts_url: string({
        doc: "Base URL of a Prometheus or Alertmanager: while an alert matching alerts_match " +
          "fires there, no host of the group takes a slot; a canary's soak counts only while " +
          "none fires, and one that begins during it halts the version. When the alerts " +
          "cannot be queried, nothing is installed either. Empty: no alert gate.",
        default: "",
        example: "http://127.0.0.1:9090",
        check: checkHttpUrl,
        hostOnly: true,
      }),
      alerts_match: string({
        doc: "Label matchers that select the alerts of alerts_url, as Prometheus writes " +
          'them, e.g. `severity="critical"` or `alertname=~"Ysco.*|HighErrorRate"` (several ' +
          "separated by commas; a regular expression must match the whole value). Empty: " +
          "every firing alert.",
        default: "",
        example: 'severity="critical"',
        check: matchersProblem,
        hostOnly: true,
      }),
    },
    { atStart: true },
  ),
} satisfies Fields;

/** The parsed configuration: every key present, defaults filled in, durations in ms. */
export type Config = { [K in keyof typeof CONFIG_SCHEMA]: ValueOf<typeof CONFIG_SCHEMA[K]> };

function checkHttpUrl(value: string): string | undefined {
  if (value === "") return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "not a URL";
  }
  return url.protocol === "http:" || url.protocol === "https:"
    ? undefined
    : `URL scheme must be http or https, not "${url.protocol.slice(0, -1)}"`;
}

function checkEndpoint(value: string): string | undefined {
  return /^[a-z]+:\/\//.test(value) ? checkHttpUrl(value) : checkHostPort(value);
}

function checkHostPort(value: string): string | undefined {
  return value === "" ? undefined : hostPortProblem(value);
}

function checkDomain(value: string): string | undefined {
  return /^([a-zA-Z0-9_-]+\.)*[a-zA-Z0-9_-]+\.?$/.test(value) ? undefined : "not a domain name";
}

function checkTimeZone(value: string): string | undefined {
  if (value === "") return undefined;
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    return undefined;
  } catch {
    return `unknown time zone "${value}" (use an IANA name like "Europe/Amsterdam")`;
  }
}

function checkCapability(value: string): string | undefined {
  try {
    parseCapability(value);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
