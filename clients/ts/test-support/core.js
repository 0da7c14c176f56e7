// A real AI Hub core for the tests: `aihub serve --only grpc` from the repository's .venv on a
// free port (it prints the port it bound), with the built-in simulated upstreams and a SQLite
// database in a temporary folder. AIHUB_BIN names another `aihub` executable.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const AIHUB = process.env.AIHUB_BIN ?? join(REPO, ".venv/bin/aihub");
// Variables that would point the core at real providers, another database, Redis or a config.
const FOREIGN = /^(AIHUB_|OPENROUTER_|GEMINI_)/;
const START_TIMEOUT_MS = 60_000;

/** The core's environment: ours less anything that configures AI Hub, then the test's settings. */
function coreEnv() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !FOREIGN.test(name)));
  return {
    ...env,
    AIHUB_JWT_SECRET: randomBytes(32).toString("hex"),
    AIHUB_SIMULATOR_CHUNK_DELAY_MS: "0",
    AIHUB_LOG_LEVEL: "warning",
  };
}

/**
 * Starts a core; resolves to `{ baseUrl, db, stop }` once its banner names the gRPC address.
 * `db` is its database's URL (for the operator's commands); `stop()` ends the process and removes
 * its folder.
 */
export async function startCore() {
  if (!existsSync(AIHUB)) {
    throw new Error(`${AIHUB} not found: create the venv (scripts/test or scripts/check) or set AIHUB_BIN`);
  }
  const dir = mkdtempSync(join(tmpdir(), "aihub-ts-client-"));
  const db = `sqlite:///${join(dir, "aihub.db")}`;
  const child = spawn(
    AIHUB,
    ["serve", "--only", "grpc", "--grpc-port", "0", "--db", db],
    { cwd: dir, env: coreEnv(), stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((done) => child.once("exit", (code, signal) => done({ code, signal })));
  const orphaned = () => {
    // the test process ends without stop()
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", orphaned);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    process.off("exit", orphaned);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const address = await bannerAddress(child, exited, () => stderr);
    return { baseUrl: `http://${address}`, db, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The `gRPC  HOST:PORT` line of the start-up banner, or an error with what the core said. */
async function bannerAddress(child, exited, stderr) {
  const lines = createInterface({ input: child.stdout });
  const timeout = new Promise((_, fail) => {
    const late = () => fail(new Error(`no banner after ${START_TIMEOUT_MS} ms`));
    const timer = setTimeout(late, START_TIMEOUT_MS);
    timer.unref();
  });
  const ended = exited.then(({ code, signal }) => {
    throw new Error(`aihub serve exited (${code ?? signal}) before serving:\n${stderr()}`);
  });
  const found = (async () => {
    for await (const line of lines) {
      const match = /^\s*gRPC\s+(\S+)/.exec(line);
      if (match) {
        child.stdout.resume(); // nothing more is expected; never let the pipe fill
        return match[1];
      }
    }
    throw new Error("aihub serve closed its output before the banner");
  })();
  try {
    return await Promise.race([found, ended, timeout]);
  } catch (err) {
    throw new Error(`${err.message}\n${stderr()}`);
  }
}

/** Runs an operator's command (`aihub users set-role EMAIL admin`, ...) on a core's database. */
export async function operator(db, ...args) {
  const [command, subcommand, ...rest] = args;
  await promisify(execFile)(AIHUB, [command, subcommand, "--db", db, ...rest], { env: coreEnv() });
}
