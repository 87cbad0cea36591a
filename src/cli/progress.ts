/**
 * A download's progress for a person watching: on a terminal one line redrawn in
 * place (a bar, the percentage and the sizes), elsewhere (a log, a pipe) a plain
 * line at every tenth.
 *
 * @module
 */

/** Options for createProgress. */
export interface ProgressOptions {
  /** What is downloaded, e.g. the file name. */
  label: string;
  /** The size in bytes. */
  total: number;
  /** Writes text as it is (no newline added). */
  write: (text: string) => void;
  /** Redraw one line in place (a terminal), or print plain lines. */
  terminal: boolean;
  /** The terminal's width in columns. @default 80 */
  columns?: number;
  /** The clock, in milliseconds. @default performance.now */
  now?: () => number;
}

/** A running progress display. */
export interface Progress {
  /** Bytes done so far. */
  update(done: number): void;
  /** Ends the display: the final state stays visible; complete or not. */
  end(complete: boolean): void;
}

/** Terminal redraws at most this often. */
const REDRAW_MS = 100;

/** "5.4 MB", "312 kB", "87 B" (decimal units, one decimal below 10). */
export function formatBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/**
 * One line of the terminal display, at most columns wide:
 * `label [=========>          ]  47%  2.6 MB of 5.4 MB`.
 */
export function formatProgressLine(
  label: string,
  done: number,
  total: number,
  columns: number,
): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const sizes = `${formatBytes(done)} of ${formatBytes(total)}`;
  // Room for the longest sizes ("999 kB of 999 kB"), so that the bar keeps its width.
  const fixed = label.length + percent.length + Math.max(16, sizes.length) + 7;
  const width = Math.max(10, Math.min(40, columns - 1 - fixed));
  const filled = Math.floor(fraction * width);
  const bar = fraction >= 1
    ? "=".repeat(width)
    : "=".repeat(filled) + ">" + " ".repeat(width - filled - 1);
  const line = `${label} [${bar}] ${percent}  ${sizes}`;
  return line.length <= columns - 1 ? line : line.slice(0, Math.max(0, columns - 1));
}

/** A plain progress line: `downloading label: 40% (2.2 MB of 5.4 MB)`. */
export function formatProgressNote(label: string, done: number, total: number): string {
  const percent = total > 0 ? Math.floor(Math.min(1, done / total) * 100) : 100;
  return `downloading ${label}: ${percent}% (${formatBytes(done)} of ${formatBytes(total)})`;
}

/** Starts a progress display; it draws the start at once. */
export function createProgress(options: ProgressOptions): Progress {
  const { label, total, write, terminal } = options;
  const columns = options.columns ?? 80;
  const now = options.now ?? (() => performance.now());
  let done = 0;
  let lastDraw = -Infinity;
  let lastTenth = -1;
  let ended = false;
  let pending: ReturnType<typeof setTimeout> | undefined;
  const draw = () => {
    clearTimeout(pending);
    pending = undefined;
    write(`\r${formatProgressLine(label, done, total, columns)}\x1b[K`);
    lastDraw = now();
  };
  const note = () => {
    const tenth = total > 0 ? Math.floor(Math.min(1, done / total) * 10) : 10;
    if (tenth > lastTenth) {
      lastTenth = tenth;
      write(formatProgressNote(label, done, total) + "\n");
    }
  };
  if (terminal) draw();
  else note();
  return {
    update(n) {
      if (ended) return;
      done = n;
      if (!terminal) note();
      else if (now() - lastDraw >= REDRAW_MS || n >= total) draw();
      // Skipped: drawn a little later, so that a stalled download shows where it stopped.
      else pending ??= setTimeout(draw, REDRAW_MS - (now() - lastDraw));
    },
    end(complete) {
      if (ended) return;
      ended = true;
      clearTimeout(pending);
      if (terminal) {
        draw();
        write(complete ? "\n" : "  stopped\n");
      } else if (complete) {
        note();
      } else {
        write(`downloading ${label}: stopped\n`);
      }
    },
  };
}
