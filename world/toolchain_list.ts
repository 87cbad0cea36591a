/**
 * A golang.org/toolchain `@v/list` of the real shape and size: every Go release and
 * release candidate since the toolchain module began (go1.21), each for every
 * platform Go supports, plus the historical stray go1.9.2rc2 entries, in the
 * proxy's unsorted order.
 *
 * @module
 */

/** Platforms of `go tool dist list` (Go 1.23). */
export const PLATFORMS = (
  "aix/ppc64 android/386 android/amd64 android/arm android/arm64 darwin/amd64 darwin/arm64 " +
  "dragonfly/amd64 freebsd/386 freebsd/amd64 freebsd/arm freebsd/arm64 freebsd/riscv64 " +
  "illumos/amd64 ios/amd64 ios/arm64 js/wasm linux/386 linux/amd64 linux/arm linux/arm64 " +
  "linux/loong64 linux/mips linux/mips64 linux/mips64le linux/mipsle linux/ppc64 linux/ppc64le " +
  "linux/riscv64 linux/s390x netbsd/386 netbsd/amd64 netbsd/arm netbsd/arm64 openbsd/386 " +
  "openbsd/amd64 openbsd/arm openbsd/arm64 openbsd/ppc64 openbsd/riscv64 plan9/386 plan9/amd64 " +
  "plan9/arm solaris/amd64 wasip1/wasm windows/386 windows/amd64 windows/arm windows/arm64"
).split(" ").map((p) => p.replace("/", "-"));

/** Go releases by minor: release candidates, then the number of patch releases (0 = none yet). */
const RELEASES: Array<[minor: number, rcs: number[], patches: number]> = [
  [21, [2, 3, 4], 14],
  [22, [1, 2], 13],
  [23, [1, 2], 13],
  [24, [1, 2, 3], 12],
  [25, [1, 2, 3], 6],
  [26, [1, 2], 0],
];

/** The Go versions in the list, oldest first. */
export function toolchainGoVersions(): string[] {
  const out: string[] = [];
  for (const [minor, rcs, patches] of RELEASES) {
    for (const rc of rcs) out.push(`go1.${minor}rc${rc}`);
    for (let p = 0; p < patches; p++) out.push(`go1.${minor}.${p}`);
  }
  return out;
}

/** The list text, one module version per line. */
export function toolchainListText(): string {
  const lines = ["v0.0.1-go1.9.2rc2.linux-amd64", "v0.0.1-go1.9.2rc2.windows-amd64"];
  for (const v of toolchainGoVersions()) {
    for (const p of PLATFORMS) lines.push(`v0.0.1-${v}.${p}`);
  }
  return lines.join("\n") + "\n";
}
