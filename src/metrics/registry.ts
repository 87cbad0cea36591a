/**
 * A small Prometheus metrics registry: counters, gauges and histograms with labels,
 * rendered in the text exposition format (version 0.0.4).
 *
 * @module
 */

type Labels = Record<string, string>;

interface Series {
  labels: Labels;
  value: number;
}

abstract class Metric {
  readonly name: string;
  readonly help: string;
  abstract readonly type: "counter" | "gauge" | "histogram";
  protected series = new Map<string, Series>();

  constructor(name: string, help: string) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) {
      throw new RangeError(`Invalid metric name "${name}"`);
    }
    this.name = name;
    this.help = help;
  }

  protected get(labels: Labels): Series {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels, value: 0 };
      this.series.set(key, s);
    }
    return s;
  }

  /** The current value of one series (0 when never set). */
  value(labels: Labels = {}): number {
    return this.series.get(labelText(labels))?.value ?? 0;
  }

  render(): string[] {
    const lines = [
      `# HELP ${this.name} ${escapeHelp(this.help)}`,
      `# TYPE ${this.name} ${this.type}`,
    ];
    const all = this.series.size === 0 ? [{ labels: {}, value: 0 }] : [...this.series.values()];
    for (const s of all) lines.push(`${this.name}${labelText(s.labels)} ${formatValue(s.value)}`);
    return lines;
  }
}

/** A value that only goes up. */
export class Counter extends Metric {
  readonly type = "counter";

  /** Adds n (default 1). */
  inc(labels: Labels = {}, n = 1): void {
    if (n < 0) throw new RangeError(`Cannot decrease counter ${this.name}`);
    this.get(labels).value += n;
  }
}

/** A value that goes up and down. */
export class Gauge extends Metric {
  readonly type = "gauge";

  set(value: number, labels: Labels = {}): void {
    this.get(labels).value = value;
  }

  /** Sets the gauge to 1 for exactly these labels, removing all other series ("info" style). */
  setOnly(labels: Labels): void {
    this.series.clear();
    this.set(1, labels);
  }
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram extends Metric {
  readonly type = "histogram";
  readonly buckets: readonly number[];
  #counts: number[];
  #sum = 0;
  #count = 0;

  /**
   * @param name metric name
   * @param help help text
   */
  constructor(name: string, help: string, buckets: readonly number[]) {
    super(name, help);
    this.buckets = [...buckets].sort((a, b) => a - b);
    this.#counts = this.buckets.map(() => 0);
  }

  observe(value: number): void {
    for (const [i, le] of this.buckets.entries()) {
      if (value <= le) this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    }
    this.#sum += value;
    this.#count++;
  }

  /** Number of observations. */
  get count(): number {
    return this.#count;
  }

  override render(): string[] {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} histogram`];
    for (const [i, le] of this.buckets.entries()) {
      lines.push(`${this.name}_bucket{le="${formatValue(le)}"} ${this.#counts[i] ?? 0}`);
    }
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.#count}`);
    lines.push(`${this.name}_sum ${formatValue(this.#sum)}`, `${this.name}_count ${this.#count}`);
    return lines;
  }
}

/** A set of metrics rendered together. */
export class Registry {
  #metrics: Metric[] = [];
  #collectors: Array<() => void> = [];

  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.#add(new Gauge(name, help));
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, buckets));
  }

  /** Runs fn before every render, to refresh gauges that are read on demand. */
  onCollect(fn: () => void): void {
    this.#collectors.push(fn);
  }

  /** The text exposition format. */
  render(): string {
    for (const fn of this.#collectors) fn();
    return this.#metrics.flatMap((m) => m.render()).join("\n") + "\n";
  }

  #add<M extends Metric>(m: M): M {
    if (this.#metrics.some((x) => x.name === m.name)) {
      throw new RangeError(`Duplicate metric "${m.name}"`);
    }
    this.#metrics.push(m);
    return m;
  }
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

function escapeLabel(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function escapeHelp(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}
