// Every RPC of the contract is called by these tests: a new RPC without a TypeScript test fails.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const GEN = join(HERE, "../gen/aihub/v1");

test("every generated service method is called by a test", async () => {
  const methods = [];
  for (const file of readdirSync(GEN).filter((name) => name.endsWith("_pb.js"))) {
    const module = await import(pathToFileURL(join(GEN, file)).href);
    for (const value of Object.values(module)) {
      if (value?.kind === "service") methods.push(...value.methods);
    }
  }
  assert.ok(methods.length >= 15, `only ${methods.length} methods found`);
  const tests = [HERE, join(HERE, "../test-support")]
    .flatMap((dir) => readdirSync(dir).filter((n) => n.endsWith(".js")).map((n) => join(dir, n)))
    .map((path) => readFileSync(path, "utf8"))
    .join("\n");
  const untested = methods
    .filter((method) => !tests.includes(`.${method.localName}(`))
    .map((method) => `${method.parent.typeName}/${method.name}`);
  assert.deepEqual(untested, []);
});
