/**
 * Whether a path exists, without following a final symlink.
 *
 * @module
 */

/**
 * Whether path exists (a dangling symlink counts).
 * @throws Error for anything but "not found" (e.g. permission denied on a parent)
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
