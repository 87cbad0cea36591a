/**
 * `deno task demo`: the main job on a machine set up with `.ci/setup`: builds the
 * test service (a real Go binary, through a local module proxy) and shows what ysco
 * reads from it.
 *
 * @module
 */

import { goBuild } from "../tests/_go.ts";
import { YSCO } from "../tests/_util.ts";

const binary = await goBuild({ version: "v1.0.1" });
const { code } = await new Deno.Command(YSCO, { args: ["inspect", binary] }).spawn().status;
Deno.exit(code);
