// The README's TypeScript example (examples/quickstart.ts, quoted there whole), compiled by the
// pinned typescript and run with Node against a real core.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { newKey, useCore } from "../test-support/clients.js";

const run = promisify(execFile);
const PACKAGE = dirname(dirname(fileURLToPath(import.meta.url)));

const hub = useCore();

test("the TypeScript example compiles and runs against the core", async () => {
  await run(join(PACKAGE, "node_modules/.bin/tsc"), ["-p", PACKAGE]);
  const { key } = await newKey(hub.clients);
  const { stdout } = await run(process.execPath, [join(PACKAGE, "build/examples/quickstart.js")], {
    env: { ...process.env, AI_HUB_GRPC_URL: hub.baseUrl, AI_HUB_API_KEY: key },
    timeout: 30_000, // it must end by itself: a stream left open would keep it running
  });
  const lines = stdout.trim().split("\n");
  assert.match(lines[0], /^\S.* \d+(\.\d+)?(e-\d+)?$/, "the answer and its cost");
  assert.match(stdout, /\n\d+ tokens\n/);
  assert.match(stdout, /\n\d+ requests left this month, \d+ this minute\n/);
  assert.equal(lines.at(-1), "NotFound MODEL_NOT_FOUND model_not_found -");
});

test("the README quotes the example as it is", () => {
  const example = readFileSync(join(PACKAGE, "examples/quickstart.ts"), "utf8");
  const readme = readFileSync(join(PACKAGE, "../../README.md"), "utf8");
  assert.ok(readme.includes("```typescript\n" + example + "```\n"), "README.md: paste examples/quickstart.ts");
});
