/**
 * README.md stays true: its generated blocks (commands, configuration reference,
 * metrics) match the program, and its troubleshooting section quotes the messages
 * that ysco prints for the mistakes of a first run.
 */

import { join } from "node:path";
import { README, renderReadme } from "../../scripts/readme.ts";
import { CONFIG_SCHEMA } from "../../src/config/config.ts";
import { assert } from "../_assert.ts";
import { writeYsDir } from "../_service.ts";
import { tempDir, ysco } from "../_util.ts";

Deno.test("README.md's generated blocks are what scripts/readme.ts makes now", async () => {
  const text = await Deno.readTextFile(README);
  assert(
    (await renderReadme(text)) === text,
    "README.md is out of date: run deno run -A scripts/readme.ts",
  );
  // Every configuration table has its section.
  for (const [name, field] of Object.entries(CONFIG_SCHEMA)) {
    if (field.kind === "table") assert(text.includes(`### \`[${name}]\``), name);
  }
});

Deno.test("the troubleshooting section quotes the messages of a first run's mistakes", async () => {
  const readme = await Deno.readTextFile(README);
  const trouble = readme.slice(readme.indexOf("## Troubleshooting"));
  await using dir = await tempDir("ysco-readme-");
  const cwd = dir.path;
  const script = join(cwd, "app");
  const rows: Array<[string, string[], () => Promise<void>]> = [
    // [mistake, command, set-up]
    ["init where ys/ exists", ["init", "example.com/app"], () => Deno.mkdir(join(cwd, "ys"))],
    [
      "init over an existing file",
      ["init", "example.com/x/app"],
      () => Deno.writeTextFile(script, "#!/bin/sh\n", { mode: 0o755 }),
    ],
    ["init with a path that is no package path", ["init", "foo"], async () => {}],
    ["run with a bare command name", ["run", "app"], async () => {}],
    ["run outside the deployment", ["run", "./app"], async () => {}],
    ["run a script", ["run", "./app"], async () => {
      await writeYsDir(cwd);
      await Deno.writeTextFile(script, '#!/bin/sh\n# a wrapper\nexec ./app.real "$@"\n', {
        mode: 0o755,
      });
    }],
    ["-groups without -user", ["run", "-groups", "x", "./app"], async () => {}],
  ];
  for (const [mistake, args, setUp] of rows) {
    for await (const e of Deno.readDir(cwd)) {
      await Deno.remove(join(cwd, e.name), { recursive: true });
    }
    await setUp();
    const out = await ysco(args, { cwd });
    const line = out.stderr.split("\n").find((l) => l.includes("ysco"))?.replaceAll(
      cwd,
      "/srv/app",
    );
    assert(line !== undefined && out.code !== 0, `${mistake}: ${out.stderr}`);
    assert(trouble.includes(`\`${line}\``), `${mistake}: the README lacks \`${line}\``);
  }
});
