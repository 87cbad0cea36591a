/**
 * The documentation stays true: its generated blocks (README's commands, the
 * configuration reference, the metrics) match the program, troubleshooting quotes
 * the messages that ysco prints for the mistakes of a first run, every relative link
 * between the documents leads to a file, and the README stays an operator's page.
 */

import { join } from "node:path";
import { GENERATED, renderGenerated, repoPath } from "../../scripts/docs.ts";
import { CONFIG_SCHEMA } from "../../src/config/config.ts";
import { assert } from "../_assert.ts";
import { writeYsDir } from "../../world/service.ts";
import { tempDir, ysco } from "../../world/util.ts";

Deno.test("the generated blocks of the documentation are what scripts/docs.ts makes now", async () => {
  for (const file of Object.keys(GENERATED)) {
    const text = await Deno.readTextFile(repoPath(file));
    assert(
      (await renderGenerated(file, text)) === text,
      `${file} is out of date: run deno run -A scripts/docs.ts`,
    );
  }
  // Every configuration table has its section.
  const config = await Deno.readTextFile(repoPath("docs/configuration.md"));
  for (const [name, field] of Object.entries(CONFIG_SCHEMA)) {
    if (field.kind === "table") assert(config.includes(`### \`[${name}]\``), name);
  }
});

Deno.test("README.md is an operator's page of at most 20 KB, and every relative link leads to a file", async () => {
  const readme = await Deno.readTextFile(repoPath("README.md"));
  assert(new TextEncoder().encode(readme).length <= 20 * 1024, "README.md is over 20 KB");
  const files = ["README.md"];
  for await (const e of Deno.readDir(repoPath("docs"))) {
    if (e.name.endsWith(".md")) files.push(`docs/${e.name}`);
  }
  for (const file of files) {
    const text = await Deno.readTextFile(repoPath(file));
    for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      const target = m[1] ?? "";
      if (/^[a-z]+:/.test(target)) continue; // http(s), mailto
      const path = join(repoPath(file), "..", target);
      const exists = await Deno.stat(path).then(() => true, () => false);
      assert(exists, `${file} links to ${target}, which does not exist`);
    }
  }
});

Deno.test("the troubleshooting section quotes the messages of a first run's mistakes", async () => {
  const trouble = await Deno.readTextFile(repoPath("docs/troubleshooting.md"));
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
    assert(
      trouble.includes(`\`${line}\``),
      `${mistake}: docs/troubleshooting.md lacks \`${line}\``,
    );
  }
});
