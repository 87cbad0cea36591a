/**
 * A terminal for tests that drive ysco as a person would: a real tmux server on its
 * own socket running an interactive shell, where the test types commands and reads
 * the screen (capture-pane). `await using` ends the shell and the server.
 *
 * @module
 */

import { join } from "node:path";
import { poll } from "../world/process.ts";
import { tempDir } from "../world/util.ts";

/** Options for startTerminal. */
export interface TerminalOptions {
  /** The shell's working directory. */
  cwd: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** @default 160 */
  columns?: number;
  /** @default 50 */
  rows?: number;
}

/** A shell in a tmux pane. */
export interface Terminal extends AsyncDisposable {
  /** Types a line and presses Enter. */
  type(line: string): Promise<void>;
  /** Presses keys by tmux name, e.g. "C-c". */
  press(key: string): Promise<void>;
  /** The pane's content including scrollback, wrapped lines joined, trailing blanks trimmed. */
  screen(): Promise<string>;
  /** Waits until the screen matches pattern and returns the match. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Starts a tmux server with one session running bash in cwd, prompt "$ ". */
export async function startTerminal(options: TerminalOptions): Promise<Terminal> {
  const socket = `ysco-test-${crypto.randomUUID().slice(0, 8)}`;
  const tmux = async (...args: string[]): Promise<string> => {
    const out = await new Deno.Command("tmux", {
      args: ["-L", socket, "-f", "/dev/null", ...args],
      stdin: "null",
      env: { TERM: "xterm-256color" },
    }).output();
    const dec = new TextDecoder();
    if (!out.success) {
      throw new Error(`tmux ${args.join(" ")}: ${dec.decode(out.stderr).trim()}`);
    }
    return dec.decode(out.stdout);
  };
  const env = { NO_COLOR: "1", HISTFILE: "/dev/null", ...options.env };
  // bash takes its prompt from an rc file, not from the environment.
  const home = await tempDir("ysco-tmux-");
  const rc = join(home.path, "bashrc");
  await Deno.writeTextFile(rc, "PS1='$ '\n");
  await tmux(
    "new-session",
    "-d",
    "-s",
    "t",
    "-x",
    String(options.columns ?? 160),
    "-y",
    String(options.rows ?? 50),
    "-c",
    options.cwd,
    ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    `bash --noprofile --rcfile ${rc} -i`,
  );
  const terminal: Terminal = {
    async type(line) {
      await tmux("send-keys", "-t", "t", "-l", line);
      await tmux("send-keys", "-t", "t", "Enter");
    },
    async press(key) {
      await tmux("send-keys", "-t", "t", key);
    },
    async screen() {
      const text = await tmux("capture-pane", "-t", "t", "-p", "-J", "-S", "-");
      return text.replace(/\s+$/, "");
    },
    async waitFor(pattern, timeoutMs = 60_000) {
      let last = "";
      try {
        return await poll(`${pattern} on the screen`, async () => {
          last = await terminal.screen();
          return last.match(pattern) ?? undefined;
        }, timeoutMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}; the screen:\n${last}`);
      }
    },
    async [Symbol.asyncDispose]() {
      // Stop what still runs in the foreground (a killed shell only sends it SIGHUP).
      await tmux("send-keys", "-t", "t", "C-c").catch(() => {});
      await poll(
        "the prompt",
        async () => /\n\$ ?$/.test(await terminal.screen()) || undefined,
        10_000,
      )
        .catch(() => {});
      await tmux("kill-server").catch(() => {});
      await home[Symbol.asyncDispose]();
    },
  };
  // The shell is ready when its prompt shows.
  await terminal.waitFor(/^\$ ?$/m, 20_000);
  return terminal;
}
