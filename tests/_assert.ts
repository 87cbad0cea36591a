/**
 * Assertions for the tests: Node's strict assertions (built into Deno; the std
 * assertions come from jsr, which our machines cannot reach) under the familiar names.
 *
 * @module
 */

export {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  notDeepStrictEqual as assertNotEquals,
  ok as assert,
  rejects as assertRejects,
  throws as assertThrows,
} from "node:assert/strict";
