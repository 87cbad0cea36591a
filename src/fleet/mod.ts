/**
 * Fleet coordination from the `[fleet]` configuration: which backend is configured,
 * an etcd client with its credentials and TLS files, and the FleetGate the update
 * cycle uses (see gate.ts for the calls and their order).
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import type { Config } from "../config/config.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { EtcdClient, type EtcdOptions } from "./etcd.ts";
import { openEtcdGate } from "./etcd_gate.ts";
import { openFleetLockGate } from "./fleetlock.ts";
import { AlertSource } from "./alerts.ts";
import { alertInterval, AlertWatch } from "./alert_watch.ts";
import { parseMatchers } from "./matchers.ts";
import type { FleetGate } from "./gate.ts";

export type { FleetGate, FleetSlot, GateStatus, HostReport } from "./gate.ts";

/** The `[fleet]` table. */
export type FleetConfig = Config["fleet"];

/** Which backend the configuration selects; undefined when fleet coordination is off. */
export function fleetBackend(config: FleetConfig): "etcd" | "fleetlock" | undefined {
  if (config.etcd.length > 0 && config.fleetlock_url !== "") {
    throw new Error(
      "Cannot configure fleet: both fleet.etcd and fleet.fleetlock_url are set; choose one",
    );
  }
  if (config.etcd.length > 0) return "etcd";
  if (config.fleetlock_url !== "") return "fleetlock";
  return undefined;
}

/** This host's id: fleet.id, or the host name. */
export function fleetId(config: FleetConfig): string {
  return config.id !== "" ? config.id : Deno.hostname();
}

/** Options for connectEtcd and openFleetGate. */
export interface FleetOpenOptions {
  /** Directory that relative file names are relative to. @default Deno.cwd() */
  cwd?: string;
  logger?: Logger;
  /** Time limit of one etcd request (ms). @default 5000 */
  requestTimeout?: number;
  /** Time between alert queries (ms). @default alertInterval(fleet.soak) */
  alertInterval?: number;
}

/**
 * An etcd client for the configured cluster, with the password and TLS files read.
 * @throws Error naming an unreadable or empty file
 */
export async function connectEtcd(
  config: FleetConfig,
  options: FleetOpenOptions = {},
): Promise<EtcdClient> {
  const cwd = options.cwd ?? Deno.cwd();
  const read = async (key: string, file: string): Promise<string> => {
    try {
      return await Deno.readTextFile(isAbsolute(file) ? file : join(cwd, file));
    } catch (err) {
      throw new Error(`Cannot read fleet.${key} "${file}": ${errorMessage(err)}`, { cause: err });
    }
  };
  const etcd: EtcdOptions = {
    endpoints: config.etcd,
    ...(options.requestTimeout ? { requestTimeout: options.requestTimeout } : {}),
  };
  if (config.username !== "") {
    if (config.password_file === "") {
      throw new Error(
        "Cannot connect to etcd: fleet.username is set but fleet.password_file is not",
      );
    }
    const password = (await read("password_file", config.password_file)).replace(/[\r\n]+$/, "");
    if (password === "") {
      throw new Error(`Cannot connect to etcd: password file "${config.password_file}" is empty`);
    }
    etcd.username = config.username;
    etcd.password = password;
  }
  if ((config.cert_file === "") !== (config.key_file === "")) {
    throw new Error("Cannot connect to etcd: fleet.cert_file and fleet.key_file go together");
  }
  const tls: NonNullable<EtcdOptions["tls"]> = {};
  if (config.ca_file !== "") tls.caCert = await read("ca_file", config.ca_file);
  if (config.cert_file !== "") {
    tls.cert = await read("cert_file", config.cert_file);
    tls.key = await read("key_file", config.key_file);
  }
  if (tls.caCert || tls.cert) etcd.tls = tls;
  return new EtcdClient(etcd);
}

/**
 * The configured gate (etcd or FleetLock), registered in the background; undefined
 * when fleet coordination is off. Closing the gate also closes its etcd client.
 */
export async function openFleetGate(
  config: FleetConfig,
  options: FleetOpenOptions = {},
): Promise<FleetGate | undefined> {
  const backend = fleetBackend(config);
  const id = fleetId(config);
  const logger = options.logger;
  const alerts = backend === undefined ? undefined : alertWatch(config, options);
  if (backend === "fleetlock") {
    const caCert = config.ca_file === "" ? undefined : await Deno.readTextFile(
      isAbsolute(config.ca_file) ? config.ca_file : join(options.cwd ?? Deno.cwd(), config.ca_file),
    );
    const client = caCert ? Deno.createHttpClient({ caCerts: [caCert] }) : undefined;
    return openFleetLockGate({
      url: config.fleetlock_url,
      group: config.group,
      id,
      ...(client ? { client, closeClient: true } : {}),
      ...(logger ? { logger } : {}),
      ...(alerts ? { alerts } : {}),
    });
  }
  if (backend !== "etcd") return undefined;
  const client = await connectEtcd(config, options);
  return openEtcdGate({
    client,
    closeClient: true,
    group: config.group,
    id,
    maxConcurrent: config.max_concurrent,
    canaries: config.canaries,
    soak: config.soak,
    leaseTtl: config.lease_ttl,
    ...(logger ? { logger } : {}),
    ...(alerts ? { alerts } : {}),
  });
}

/** The alert source of fleet.alerts_url and fleet.alerts_match; undefined when not set. */
export function alertSource(config: FleetConfig): AlertSource | undefined {
  if (config.alerts_url === "") return undefined;
  return new AlertSource({ url: config.alerts_url, matchers: parseMatchers(config.alerts_match) });
}

/** The alert gate of the configuration (not started); undefined when not set. */
function alertWatch(config: FleetConfig, options: FleetOpenOptions): AlertWatch | undefined {
  const source = alertSource(config);
  if (source === undefined) return undefined;
  return new AlertWatch(source, {
    interval: options.alertInterval ?? alertInterval(config.soak),
    ...(options.logger ? { logger: options.logger.with({ alerts: config.alerts_url }) } : {}),
  });
}
