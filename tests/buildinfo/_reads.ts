/**
 * Helpers of the build info tests: asserting the reader's own error, and counting
 * the bytes it reads.
 *
 * @module
 */

import { assert, assertRejects } from "../_assert.ts";
import { BuildInfoError, BytesReaderAt, type ReaderAt } from "../../src/buildinfo/mod.ts";

/** Asserts that p rejects with a BuildInfoError, and returns it. */
export async function rejectsBuildInfo(p: Promise<unknown>): Promise<BuildInfoError> {
  let caught: unknown;
  await assertRejects(p.catch((err) => {
    caught = err;
    throw err;
  }));
  assert(caught instanceof BuildInfoError, `expected BuildInfoError, got ${caught}`);
  return caught;
}

/** A reader over bytes that counts the reads and the bytes read. */
export function countingReader(bytes: Uint8Array): {
  reader: ReaderAt;
  bytes: () => number;
  calls: () => number;
} {
  const inner = new BytesReaderAt(bytes);
  let total = 0;
  let calls = 0;
  return {
    reader: {
      size: inner.size,
      read(offset, length) {
        total += length;
        calls++;
        return inner.read(offset, length);
      },
    },
    bytes: () => total,
    calls: () => calls,
  };
}
