/**
 * Go's names for operating systems and architectures, as gobuild and build info use
 * them, for the machine ysco runs on.
 *
 * @module
 */

const GOARCH: Record<string, string> = { x86_64: "amd64", aarch64: "arm64" };

/** GOOS of the running machine ("linux", "darwin", "windows", ...). */
export function hostGoos(): string {
  return Deno.build.os;
}

/** GOARCH of the running machine ("amd64", "arm64"). */
export function hostGoarch(): string {
  return GOARCH[Deno.build.arch] ?? Deno.build.arch;
}
