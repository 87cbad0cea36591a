/**
 * The canary's part of the etcd gate: the soak clock of the running release
 * (canary_soak.ts), the soak mark it writes at the end of a soak during a rollout
 * (policy.soakVerdict), and, with alert-gated rollouts, the halt it writes when an
 * alert begins during its soak, as a rollback would.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import type { Release } from "../state/state.ts";
import { describeAlert, type FiringAlert } from "./alerts.ts";
import type { AlertState, AlertWatch } from "./alert_watch.ts";
import { CanarySoak } from "./canary_soak.ts";
import type { EtcdClient } from "./etcd.ts";
import {
  fleetKeys,
  formatTarget,
  groupKeys,
  type Halt,
  type HostState,
  keyName,
  parseHostState,
} from "./layout.ts";
import { soakVerdict } from "./policy.ts";

/** Options for EtcdCanary. */
export interface EtcdCanaryOptions {
  client: EtcdClient;
  group: string;
  id: string;
  /** How many canaries the group has. */
  canaries: number;
  /** The soak time (ms). */
  soak: number;
  /** How long to wait before looking again at a soak outside a rollout (ms). */
  recheck: number;
  alerts: AlertWatch | undefined;
  log: Logger | undefined;
  now: () => Date;
  /** Asks for a round of work() soon. */
  kick: () => void;
  /** This host halted a release for an alert: the reason, for the host's state. */
  onHalt: (reason: string) => void;
}

/** The soak marks and alert halts of one host. */
export class EtcdCanary {
  /** Releases this host halted for alerts. */
  alertHalts = 0;
  readonly #o: EtcdCanaryOptions;
  readonly #soak: CanarySoak;
  /** Alerts that began during the soak, for the next round to halt for. */
  #pending: FiringAlert[] | undefined;

  /** @param options the client, the host and the callbacks */
  constructor(options: EtcdCanaryOptions) {
    this.#o = options;
    this.#soak = new CanarySoak(options.soak, options.kick);
    options.alerts?.onChange((state) => this.#onAlerts(state));
  }

  /** Whether work() has something to do. */
  get due(): boolean {
    return this.#pending !== undefined || (this.#soak.current?.due ?? false);
  }

  /** The running release and its health. */
  report(release: Release, healthy: boolean): void {
    if (this.#o.canaries <= 0) return;
    if (this.#soak.report(release, healthy) && this.#o.alerts) {
      this.#onAlerts(this.#o.alerts.state);
    }
  }

  /** This host took a canary slot for target. */
  granted(target: Release): void {
    this.#soak.granted(target);
  }

  /** Stops the soak clock. */
  stop(): void {
    this.#soak.stop();
  }

  /**
   * One round: halts for alerts that began during the soak, then the soak mark if it
   * is due; the mark not while `busy` (the update cycle holds or settles a slot, so it
   * has not finished its own checks).
   */
  async work(busy: boolean): Promise<void> {
    const alerts = this.#pending;
    this.#pending = undefined;
    if (alerts) await this.#haltFor(alerts);
    if (!busy) await this.#markSoaked();
  }

  /**
   * Writes this host's soak mark for the running release when it is a canary during a
   * rollout of it; not while alerts fire. Without a rollout it looks again later.
   */
  async #markSoaked(): Promise<void> {
    const soak = this.#soak.current;
    if (soak === undefined || !soak.due) return;
    if (this.#o.alerts && this.#o.alerts.state.state !== "clear") return;
    const { client, group, id, canaries } = this.#o;
    const view = await readCanaryView(client, group, soak.target);
    const verdict = soakVerdict(soak.target, id, view.hosts, view.marks, canaries);
    if (verdict === "mark") {
      await writeSoakMark(client, group, id, soak.target, this.#o.now());
      this.#o.log?.info("fleet canary soaked", { target: formatTarget(soak.target) });
    }
    if (verdict === "no rollout") this.#soak.postpone(soak, this.#o.recheck);
    else this.#soak.close(soak);
  }

  /** A new answer about alerts: alerts that began during the soak halt its release. */
  #onAlerts(state: AlertState): void {
    const fresh = this.#soak.alerts(state);
    if (fresh.length === 0) return;
    this.#pending = [...(this.#pending ?? []), ...fresh];
    this.#o.kick();
  }

  /**
   * Halts the release this host soaks as a canary for alerts that began during the
   * soak, as a rollback would; a host that is no canary in a rollout of it accepts them.
   */
  async #haltFor(alerts: FiringAlert[]): Promise<void> {
    const soak = this.#soak.current;
    const [first] = alerts;
    if (soak === undefined || soak.closed || first === undefined) return;
    const { client, group, id, canaries } = this.#o;
    try {
      const view = await readCanaryView(client, group, soak.target);
      if (soakVerdict(soak.target, id, view.hosts, view.marks, canaries) !== "mark") {
        this.#soak.accept(alerts);
        return;
      }
      const alert = describeAlert(first);
      const reason = `alert ${alert} fired during the canary soak`;
      const at = this.#o.now().toISOString();
      if (await writeHalt(client, group, { ...soak.target, by: id, reason, at, alert })) {
        this.alertHalts++;
        this.#o.onHalt(reason);
        this.#o.log?.warn("fleet version halted by an alert", {
          target: formatTarget(soak.target),
          alert,
        });
      }
      this.#soak.accept(alerts);
    } catch (err) {
      // Again in the next round.
      this.#pending = [...alerts, ...(this.#pending ?? [])];
      throw err;
    }
  }
}

/** The group as a canary sees it for one target. */
export interface CanaryView {
  /** The registered hosts' states, with their ids from the keys. */
  hosts: HostState[];
  /** Soak marks written for the target. */
  marks: number;
}

/** Reads the hosts and the target's soak marks at one revision (linearizably). */
export async function readCanaryView(
  client: EtcdClient,
  group: string,
  target: Release,
): Promise<CanaryView> {
  const keys = fleetKeys(group, "", target);
  const read = await client.txn({
    compare: [],
    success: [
      { range: { key: groupKeys(group).hosts, prefix: true } },
      { range: { key: keys.soaked, prefix: true, countOnly: true } },
    ],
  });
  const [hosts, marks] = read.results;
  return {
    hosts: hosts?.kind === "range"
      ? hosts.kvs.flatMap((kv) => {
        const state = parseHostState(kv.value);
        return state ? [{ ...state, id: keyName(kv.key) }] : [];
      })
      : [],
    marks: marks?.kind === "range" ? marks.count : 0,
  };
}

/** Writes host id's soak mark for target (no lease: it stays with the target). */
export async function writeSoakMark(
  client: EtcdClient,
  group: string,
  id: string,
  target: Release,
  at: Date,
): Promise<void> {
  await client.put(
    fleetKeys(group, id, target).soakedMine,
    JSON.stringify({ id, at: at.toISOString() }),
  );
}

/**
 * Writes a halt unless the target is halted already (the first reason stays); returns
 * whether it was written.
 */
export async function writeHalt(client: EtcdClient, group: string, halt: Halt): Promise<boolean> {
  const key = fleetKeys(group, halt.by, halt).halt;
  const res = await client.txn({
    compare: [{ key, target: "create", op: "=", value: 0 }],
    success: [{ put: { key, value: JSON.stringify(halt) } }],
  });
  return res.succeeded;
}
