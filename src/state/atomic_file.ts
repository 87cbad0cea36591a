/**
 * Replacing a file atomically and durably: write a temporary file in the same
 * directory, fsync it, rename it over the target, fsync the directory. A crash at
 * any moment leaves the old or the new content, never a mix.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

/**
 * Writes data to path atomically and durably; the temporary file is removed on failure.
 * @param mode permission bits of the new file
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  mode = 0o600,
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true, mode });
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
    await syncDir(dir);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/** Makes a rename in dir durable by syncing the directory itself. */
export async function syncDir(dir: string): Promise<void> {
  const d = await Deno.open(dir, { read: true });
  try {
    await d.sync();
  } finally {
    d.close();
  }
}
