/**
 * Firing alerts from Prometheus or Alertmanager, for alert-gated rollouts
 * (`fleet.alerts_url`, `fleet.alerts_match`).
 *
 * `alerts_url` is the base URL of either server; the first query finds out which:
 *
 * - Prometheus: `GET {url}/api/v1/alerts` lists the alerts of its alerting rules
 *   (`{"status":"success","data":{"alerts":[{"labels","state","activeAt",...}]}}`);
 *   only state "firing" counts, not "pending" (a rule's `for` has not passed yet).
 * - Alertmanager: `GET {url}/api/v2/alerts?silenced=false&inhibited=false` lists the
 *   alerts it received from every Prometheus (`[{"labels","startsAt","status":
 *   {"state"}}]`); silenced and inhibited alerts do not count, so an operator can
 *   silence an alert to let a rollout go on.
 *
 * The matchers are applied here, the same way for both (see matchers.ts). A failed
 * query is an error, never "no alerts": callers fail closed on it.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import { type Matcher, matchesAll } from "./matchers.ts";

/** A matching alert that fires. */
export interface FiringAlert {
  /** The alertname label. */
  name: string;
  labels: Record<string, string>;
  /** When it became active (Prometheus' activeAt, Alertmanager's startsAt), ISO 8601. */
  since: string;
}

/** Which API answered. */
export type AlertApi = "prometheus" | "alertmanager";

/** Options for AlertSource. */
export interface AlertSourceOptions {
  /** Base URL of Prometheus or Alertmanager. */
  url: string;
  matchers: Matcher[];
  /** Time limit of one query (ms). @default 5000 */
  timeout?: number;
  client?: Deno.HttpClient;
}

/** Queries one Prometheus or Alertmanager for the matching firing alerts. */
export class AlertSource {
  readonly url: string;
  readonly matchers: readonly Matcher[];
  /** Queries sent. */
  requests = 0;
  readonly #timeout: number;
  readonly #client: Deno.HttpClient | undefined;
  #api: AlertApi | undefined;

  /** @param options the server and the matchers */
  constructor(options: AlertSourceOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.matchers = options.matchers;
    this.#timeout = options.timeout ?? 5000;
    this.#client = options.client;
  }

  /** The API found by the first successful query. */
  get api(): AlertApi | undefined {
    return this.#api;
  }

  /**
   * The matching alerts that fire now.
   * @throws Error naming the URL when neither API answers as expected
   */
  async firing(signal?: AbortSignal): Promise<FiringAlert[]> {
    const apis: AlertApi[] = this.#api ? [this.#api] : ["prometheus", "alertmanager"];
    const problems: string[] = [];
    for (const api of apis) {
      const url = api === "prometheus"
        ? `${this.url}/api/v1/alerts`
        : `${this.url}/api/v2/alerts?silenced=false&inhibited=false`;
      let body: unknown;
      try {
        body = await this.#get(url, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        problems.push(errorMessage(err));
        continue;
      }
      const alerts = api === "prometheus"
        ? parsePrometheusAlerts(body)
        : parseAlertmanagerAlerts(body);
      if (alerts === undefined) {
        problems.push(`GET ${url}: not a ${api} alerts answer`);
        continue;
      }
      this.#api = api;
      return alerts.filter((a) => matchesAll(a.labels, this.matchers));
    }
    throw new Error(`Cannot query alerts at ${this.url}: ${problems.join("; ")}`);
  }

  async #get(url: string, signal?: AbortSignal): Promise<unknown> {
    this.requests++;
    const timeout = AbortSignal.timeout(this.#timeout);
    const res = await fetch(url, {
      headers: { accept: "application/json" },
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      ...(this.#client ? { client: this.#client } : {}),
    }).catch((err) => {
      throw new Error(
        `GET ${url}: ${
          timeout.aborted ? `no answer within ${this.#timeout} ms` : errorMessage(err)
        }`,
        { cause: err },
      );
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${url}: status ${res.status}: ${text.trim().slice(0, 200)}`);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`GET ${url}: not JSON: ${text.trim().slice(0, 200)}`, { cause: err });
    }
  }
}

/**
 * The firing alerts of a Prometheus `/api/v1/alerts` answer; undefined when it is not
 * one.
 */
export function parsePrometheusAlerts(body: unknown): FiringAlert[] | undefined {
  if (!isObject(body) || body.status !== "success" || !isObject(body.data)) return undefined;
  const list = body.data.alerts;
  if (!Array.isArray(list)) return undefined;
  return list.filter(isObject).filter((a) => a.state === "firing").map((a) =>
    alert(a.labels, a.activeAt)
  );
}

/**
 * The active alerts of an Alertmanager `/api/v2/alerts` answer (neither silenced nor
 * inhibited; "unprocessed" ones count, as they are about to be active); undefined
 * when it is not one.
 */
export function parseAlertmanagerAlerts(body: unknown): FiringAlert[] | undefined {
  if (!Array.isArray(body)) return undefined;
  return body.filter(isObject).filter((a) => {
    const state = isObject(a.status) ? a.status.state : undefined;
    return state === "active" || state === "unprocessed";
  }).map((a) => alert(a.labels, a.startsAt));
}

/** `HighErrorRate{instance="a", severity="critical"}`, for messages. */
export function describeAlert(a: FiringAlert): string {
  const labels = Object.entries(a.labels).filter(([k]) => k !== "alertname")
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${a.name}{${labels.join(", ")}}`;
}

/** A stable key of an alert: its labels, sorted. */
export function alertKey(a: FiringAlert): string {
  return JSON.stringify(Object.entries(a.labels).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

function alert(labels: unknown, since: unknown): FiringAlert {
  const l: Record<string, string> = {};
  if (isObject(labels)) {
    for (const [k, v] of Object.entries(labels)) if (typeof v === "string") l[k] = v;
  }
  return { name: l.alertname ?? "", labels: l, since: typeof since === "string" ? since : "" };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
