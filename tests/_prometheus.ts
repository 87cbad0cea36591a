/**
 * A real Prometheus (Debian's `prometheus`) for the alert-gated rollout tests, and
 * optionally a real Alertmanager (Debian's `prometheus-alertmanager`) it sends its
 * alerts to: each on a free loopback port with its own temporary directory, scraping
 * the given targets every second and evaluating the given alerting rules every
 * second. `await using` stops both and removes the directory.
 *
 * Also a tiny test service whose `/metrics` a test sets, for rules to fire on.
 *
 * @module
 */

import { join } from "node:path";
import { freePort, poll, Proc } from "../world/process.ts";

/** The Prometheus binary. */
export const PROMETHEUS = "/usr/bin/prometheus";
/** The Alertmanager binary. */
export const ALERTMANAGER = "/usr/bin/prometheus-alertmanager";

/** Options for startPrometheus. */
export interface PrometheusOptions {
  /** Scrape targets ("127.0.0.1:PORT"), in one job "test". */
  targets: string[];
  /** The rule groups of the rules file (YAML, below `groups:`). */
  rules: string;
  /** Start an Alertmanager too, and send the alerts to it. @default false */
  alertmanager?: boolean;
}

/** A running Prometheus (and Alertmanager). */
export interface Prometheus extends AsyncDisposable {
  /** Base URL of Prometheus. */
  url: string;
  /** Base URL of the Alertmanager, when started. */
  alertmanagerUrl?: string;
  /** Both processes' output, for failure messages. */
  output(): string;
}

/** Starts Prometheus (and an Alertmanager) and waits until they are ready. */
export async function startPrometheus(options: PrometheusOptions): Promise<Prometheus> {
  const dir = await Deno.makeTempDir({ prefix: "ysco-prometheus-" });
  const procs: Proc[] = [];
  const dispose = async () => {
    await Promise.all(procs.map((p) => p[Symbol.asyncDispose]()));
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    let alertmanagerUrl: string | undefined;
    let alerting = "";
    if (options.alertmanager) {
      const port = freePort();
      alertmanagerUrl = `http://127.0.0.1:${port}`;
      await Deno.writeTextFile(
        join(dir, "alertmanager.yml"),
        'route:\n  receiver: "null"\n  group_wait: 0s\nreceivers:\n  - name: "null"\n',
      );
      procs.push(
        new Proc(ALERTMANAGER, [
          `--config.file=${join(dir, "alertmanager.yml")}`,
          `--storage.path=${join(dir, "alertmanager")}`,
          `--web.listen-address=127.0.0.1:${port}`,
          "--cluster.listen-address=",
        ]),
      );
      alerting =
        `alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ["127.0.0.1:${port}"]\n`;
    }
    await Deno.writeTextFile(join(dir, "rules.yml"), `groups:\n${options.rules}`);
    await Deno.writeTextFile(
      join(dir, "prometheus.yml"),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n` +
        `rule_files: ["${join(dir, "rules.yml")}"]\n${alerting}` +
        `scrape_configs:\n  - job_name: test\n    static_configs:\n` +
        `      - targets: ${JSON.stringify(options.targets)}\n`,
    );
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    procs.push(
      new Proc(PROMETHEUS, [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ]),
    );
    const output = () => procs.map((p) => p.output()).join("\n").slice(-3000);
    for (const base of [url, alertmanagerUrl]) {
      if (base === undefined) continue;
      await poll(`${base} ready`, async () => {
        for (const p of procs) {
          const exited = await Promise.race([p.status, Promise.resolve(undefined)]);
          if (exited) throw new Error(`exited with ${exited.code}:\n${output()}`);
        }
        const res = await fetch(`${base}/-/ready`).catch(() => undefined);
        await res?.body?.cancel();
        return res?.ok ? true : undefined;
      }, 60_000);
    }
    return {
      url,
      ...(alertmanagerUrl ? { alertmanagerUrl } : {}),
      output,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** A service with a `/metrics` page that the test sets. */
export interface MetricsService extends AsyncDisposable {
  /** "127.0.0.1:PORT", for scrape targets. */
  target: string;
  /** Sets the value of a gauge on the page. */
  set(name: string, value: number): void;
  /** Scrapes served so far. */
  scrapes: number;
}

/** Serves `/metrics` with gauges the test sets (all 0 to begin with). */
export function startMetricsService(gauges: Record<string, number>): MetricsService {
  const values = new Map(Object.entries(gauges));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    if (new URL(req.url).pathname !== "/metrics") return new Response("", { status: 404 });
    service.scrapes++;
    const text = [...values].map(([k, v]) => `# TYPE ${k} gauge\n${k} ${v}\n`).join("");
    return new Response(text, { headers: { "content-type": "text/plain; version=0.0.4" } });
  });
  const service: MetricsService = {
    target: `127.0.0.1:${server.addr.port}`,
    set(name, value) {
      values.set(name, value);
    },
    scrapes: 0,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
  return service;
}
