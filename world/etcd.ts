/**
 * A real etcd cluster for the fleet tests and benchmark: Debian's etcd 3.4 binary,
 * each member on free loopback ports with its own temporary data directory. Members
 * can be stopped and started again on demand; `await using` stops them all and
 * removes the directories.
 *
 * @module
 */

import { join } from "node:path";

/** The etcd binary (Debian's etcd-server package). */
export const ETCD = "/usr/bin/etcd";

/** TLS material for a cluster: PEM files in the cluster's directory. */
export interface EtcdTlsFiles {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/** One member. */
export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  logFile: string;
  readonly running: boolean;
}

/** A running cluster. */
export interface EtcdCluster extends AsyncDisposable {
  /** Client URLs of all members, in order. */
  endpoints: string[];
  members: EtcdMember[];
  /** The cluster's directory (data dirs, logs, certificates). */
  dir: string;
  /** Stops member i (SIGTERM by default, then waits for it to exit). */
  stop(i: number, signal?: Deno.Signal): Promise<void>;
  /** Starts member i again with its data and waits until it answers. */
  start(i: number): Promise<void>;
}

/** Options for startEtcdCluster. */
export interface EtcdClusterOptions {
  /** Members. @default 3 */
  size?: number;
  /** Serve clients over TLS with client certificates required (certificates made with openssl). */
  tls?: EtcdTlsFiles;
}

interface Running {
  child: Deno.ChildProcess;
  /** Copies the member's log output to its log file. */
  copied: Promise<void>;
}

/** Starts a cluster and waits until every member is healthy. */
export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const size = options.size ?? 3;
  const dir = await Deno.makeTempDir({ prefix: "ysco-etcd-" });
  const ports = await freePorts(size * 2);
  const scheme = options.tls ? "https" : "http";
  const members: Array<EtcdMember & { running: boolean }> = [];
  for (let i = 0; i < size; i++) {
    members.push({
      name: `n${i + 1}`,
      clientUrl: `${scheme}://127.0.0.1:${ports[2 * i]}`,
      peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
      dataDir: join(dir, `n${i + 1}`),
      logFile: join(dir, `n${i + 1}.log`),
      running: false,
    });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
  const procs = new Map<number, Running>();

  const launch = async (i: number) => {
    const m = members[i];
    if (m === undefined) throw new RangeError(`no member ${i}`);
    if (m.running) return;
    const log = await Deno.open(m.logFile, { append: true, create: true });
    const tls = options.tls
      ? [
        "--cert-file",
        options.tls.serverCertFile,
        "--key-file",
        options.tls.serverKeyFile,
        "--client-cert-auth",
        "--trusted-ca-file",
        options.tls.caFile,
      ]
      : [];
    const child = new Deno.Command(ETCD, {
      args: [
        "--name",
        m.name,
        "--data-dir",
        m.dataDir,
        "--listen-client-urls",
        m.clientUrl,
        "--advertise-client-urls",
        m.clientUrl,
        "--listen-peer-urls",
        m.peerUrl,
        "--initial-advertise-peer-urls",
        m.peerUrl,
        "--initial-cluster",
        initialCluster,
        "--initial-cluster-token",
        `ysco-test-${ports[0]}`,
        "--logger",
        "zap",
        "--log-outputs",
        "stderr",
        ...tls,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // The log file is kept for a failing test's post-mortem.
    const copied = child.stderr.pipeTo(log.writable).catch(() => {});
    procs.set(i, { child, copied });
    m.running = true;
  };

  const stop = async (i: number, signal: Deno.Signal = "SIGTERM") => {
    const p = procs.get(i);
    const m = members[i];
    if (p === undefined || m === undefined) return;
    procs.delete(i);
    try {
      p.child.kill(signal);
    } catch {
      // already gone
    }
    await p.child.status;
    await p.copied;
    m.running = false;
  };

  const cluster: EtcdCluster = {
    endpoints: members.map((m) => m.clientUrl),
    members,
    dir,
    stop,
    async start(i) {
      await launch(i);
      const m = members[i];
      if (m) await waitHealthy(m, options.tls);
    },
    async [Symbol.asyncDispose]() {
      // Killed: a graceful stop of every member waits for peers that are going away.
      await Promise.all(members.map((_, i) => stop(i, "SIGKILL")));
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  try {
    for (let i = 0; i < size; i++) await launch(i);
    await Promise.all(members.map((m) => waitHealthy(m, options.tls)));
  } catch (err) {
    await cluster[Symbol.asyncDispose]();
    throw err;
  }
  return cluster;
}

/** Polls a member's /health until it reports a healthy member (with a leader). */
async function waitHealthy(m: EtcdMember, tls?: EtcdTlsFiles): Promise<void> {
  const client = tls
    ? Deno.createHttpClient({
      caCerts: [await Deno.readTextFile(tls.caFile)],
      cert: await Deno.readTextFile(tls.clientCertFile),
      key: await Deno.readTextFile(tls.clientKeyFile),
    })
    : Deno.createHttpClient({});
  const deadline = Date.now() + 60_000;
  let last = "";
  try {
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${m.clientUrl}/health`, {
          client,
          signal: AbortSignal.timeout(2000),
        });
        last = await res.text();
        if (res.ok && /"health":"true"/.test(last)) return;
      } catch (err) {
        last = String(err);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.close();
  }
  const log = await Deno.readTextFile(m.logFile).catch(() => "");
  throw new Error(
    `Cannot start etcd member ${m.name} at ${m.clientUrl}: not healthy after 60 s (${last})\n${
      log.slice(-2000)
    }`,
  );
}

/** Distinct free TCP ports on 127.0.0.1 (bound and released; the kernel will not reuse them at once). */
export function freePorts(n: number): number[] {
  const listeners = Array.from(
    { length: n },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return ports;
}

/**
 * Makes a CA, a server certificate for 127.0.0.1 and a client certificate with
 * openssl in dir.
 */
export async function makeTlsFiles(dir: string): Promise<EtcdTlsFiles> {
  const f = (name: string) => join(dir, name);
  const ssl = async (args: string[]) => {
    const out = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" })
      .output();
    if (!out.success) {
      throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
  };
  await Deno.writeTextFile(
    f("ext.cnf"),
    "[server]\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n" +
      "[client]\nextendedKeyUsage=clientAuth\n",
  );
  await ssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=ysco test CA",
  ]);
  // The client certificate has no Common Name: with authentication enabled, etcd's JSON
  // gateway refuses client certificates that carry one (it cannot map it to a user).
  for (
    const [name, subject, ext] of [["server", "/CN=127.0.0.1", "server"], [
      "client",
      "/O=ysco",
      "client",
    ]]
  ) {
    await ssl([
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      f(`${name}.key`),
      "-out",
      f(`${name}.csr`),
      "-subj",
      subject ?? "",
    ]);
    await ssl([
      "x509",
      "-req",
      "-in",
      f(`${name}.csr`),
      "-CA",
      f("ca.pem"),
      "-CAkey",
      f("ca.key"),
      "-CAcreateserial",
      "-out",
      f(`${name}.pem`),
      "-days",
      "2",
      "-extfile",
      f("ext.cnf"),
      "-extensions",
      ext ?? "",
    ]);
  }
  return {
    caFile: f("ca.pem"),
    serverCertFile: f("server.pem"),
    serverKeyFile: f("server.key"),
    clientCertFile: f("client.pem"),
    clientKeyFile: f("client.key"),
  };
}
