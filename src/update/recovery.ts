/**
 * Recovery at every start of ysco, before the service starts: a service process left
 * running by a ysco that was killed is stopped, temporary files of ysco's own naming
 * left by a crash are removed, and an interrupted install (a journal in the state)
 * is looked at: what the service path runs, whether the new binary is intact. The
 * decision is src/update/journal.ts's; when it is a rollback, the previous binary is
 * put back here already, before ysco reads the service binary (the new one may be
 * missing). See docs/design.md, "Recovery".
 *
 * Why stop a left-over service rather than adopt it: ysco can wait only for its own
 * children, so it would learn neither when an adopted service exits nor its exit
 * code, on which the rollback rules depend; and its output went to the dead ysco's
 * streams. A stop and a start cost one `update.stop_timeout` at most.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { InstallJournal, ProcessMark, State } from "../state/state.ts";
import { isRunning, stopProcess } from "../supervise/process_mark.ts";
import { currentBinary, installBinary } from "./install.ts";
import { recover, type Recovery, type RecoveryFacts } from "./journal.ts";
import { sha256Stream } from "../verify/hash.ts";

/** An interrupted install and what to do with it. */
export interface RecoveryPlan {
  journal: InstallJournal;
  recovery: Recovery;
  /** For a rollback: where the failed binary is kept now that the previous one is back. */
  failedKept?: string;
}

/**
 * Looks at the install journal of state, if any, and decides; for a rollback, puts
 * the previous binary back at the service path now.
 * @param cmdAbs the service path, absolute
 */
export async function recoverInstall(
  state: State,
  cmdAbs: string,
  log: Logger,
): Promise<RecoveryPlan | undefined> {
  const journal = state.install;
  if (journal === undefined) return undefined;
  const facts = await factsOf(journal, cmdAbs);
  const recovery = recover(journal, facts);
  log.warn("found an interrupted update", {
    phase: journal.phase,
    from: `${journal.from.version}/${journal.from.goVersion}`,
    to: `${journal.to.version}/${journal.to.goVersion}`,
    runs: facts.runs,
    ...(facts.toProblem ? { problem: facts.toProblem } : {}),
    action: recovery.action,
  });
  if (recovery.action !== "rollback") return { journal, recovery };
  if (facts.runs === "from") return { journal, recovery };
  try {
    const mod = basename(journal.to.binary);
    const installed = await installBinary(journal.from.binary, cmdAbs, `${mod}.failed`);
    return { journal, recovery, failedKept: installed.previous };
  } catch (err) {
    // Nothing better to run: the service path stays, the start shows what happens.
    log.error("cannot switch back to the previous binary", { err: errorMessage(err) });
    return { journal, recovery };
  }
}

/** What the service path runs and whether the new binary is intact. */
async function factsOf(journal: InstallJournal, cmdAbs: string): Promise<RecoveryFacts> {
  let runs: RecoveryFacts["runs"] = "other";
  let toProblem: string | undefined;
  try {
    const info = await Deno.lstat(cmdAbs);
    if (info.isSymlink) {
      const target = await currentBinary(cmdAbs);
      runs = target === journal.to.binary
        ? "to"
        : target === journal.from.binary
        ? "from"
        : "other";
    } else if (await sameFile(cmdAbs, journal.from.binary)) {
      runs = "from";
    } else if (journal.to.binary === cmdAbs) {
      runs = "to"; // a regular service path: the new binary was moved onto it
    }
    if (runs === "to") toProblem = await problemOf(journal);
  } catch (err) {
    toProblem = `cannot be read: ${errorMessage(err)}`;
    runs = "to";
  }
  return { runs, toProblem };
}

/** Why the journal's new binary cannot run, or undefined when it is as verified. */
async function problemOf(journal: InstallJournal): Promise<string | undefined> {
  const path = journal.to.binary;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    return err instanceof Deno.errors.NotFound
      ? `${path} is missing`
      : `${path} cannot be read: ${errorMessage(err)}`;
  }
  try {
    const size = (await file.stat()).size;
    if (journal.to.size !== undefined && size !== journal.to.size) {
      return `${path} has ${size} bytes, not the ${journal.to.size} it was verified with`;
    }
    if (journal.to.sha256 === undefined) return undefined;
    const hash = sha256Stream();
    for await (const chunk of file.readable) hash.update(chunk);
    const sum = hash.digest().toHex();
    return sum === journal.to.sha256
      ? undefined
      : `${path} is damaged: SHA-256 ${sum}, verified as ${journal.to.sha256}`;
  } finally {
    try {
      file.close();
    } catch {
      // closed by its readable stream
    }
  }
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([Deno.stat(a), Deno.stat(b)]);
    return x.dev === y.dev && x.ino === y.ino && x.ino !== null;
  } catch {
    return false;
  }
}

/**
 * Stops the service processes a killed ysco left running (the marks in state): TERM,
 * stopTimeout, KILL of the group. Processes that are gone, or whose pid now belongs
 * to another process, are left alone.
 */
export async function stopLeftOverService(
  state: State,
  stopTimeoutMs: number,
  log: Logger,
): Promise<void> {
  const marks = new Map<number, ProcessMark>();
  for (const m of [state.service, state.install?.process]) if (m) marks.set(m.pid, m);
  for (const mark of marks.values()) {
    if (!isRunning(mark)) continue;
    log.warn("a service process of an earlier ysco still runs, stopping it", { pid: mark.pid });
    const killed = await stopProcess(mark, { timeoutMs: stopTimeoutMs });
    log.info("stopped the earlier service process", { pid: mark.pid, killed });
  }
}

/** Temporary files of ysco: downloads (`ysco.NAME.RANDOM`), and `.NAME.UUID.tmp` of atomic writes. */
const LEFTOVER_REGEXP =
  /^(?:ysco\..+\.[0-9a-f]{12}|\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp)$/;

/**
 * Removes temporary files of ysco's own naming in dirs that were last written before
 * `before` (ms): what a crash left. A file written since belongs to a ysco that runs.
 * @returns the removed paths
 */
export async function removeLeftovers(
  dirs: readonly string[],
  before: number,
  log: Logger,
): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of new Set(dirs)) {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      continue;
    }
    for (const e of entries) {
      if (!LEFTOVER_REGEXP.test(e.name) || e.isDirectory) continue;
      const path = `${dir}/${e.name}`;
      try {
        const info = await Deno.lstat(path);
        if ((info.mtime?.getTime() ?? before) >= before) continue;
        await Deno.remove(path);
        removed.push(path);
      } catch (err) {
        log.warn("cannot remove a temporary file left by a crash", {
          path,
          err: errorMessage(err),
        });
      }
    }
  }
  if (removed.length > 0) {
    log.info("removed temporary files left by a crash", { files: removed.join(",") });
  }
  return removed;
}

/** The directories where ysco writes temporary files for a service path and a state dir. */
export function leftoverDirs(cmdAbs: string, stateDir: string, selfPath: string): string[] {
  return [dirname(cmdAbs), stateDir, ...(selfPath.includes("/") ? [dirname(selfPath)] : [])];
}
