// A real npm registry on 127.0.0.1 for the release check: verdaccio 6.8.0 (6.10 needs Node 22), holding
// memtopo's own packages itself and proxying everything else to the registry npm is configured with.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const VERDACCIO = "verdaccio@6.8.0";

/** Installs verdaccio once into a cache folder (its 300-odd dependencies stay out of the repository's lockfile). */
function installVerdaccio(cacheDir) {
  const dir = path.join(cacheDir, VERDACCIO);
  const bin = path.join(dir, "node_modules/.bin/verdaccio");
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), '{"private":true}\n');
  const r = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", VERDACCIO], {
    cwd: dir,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`npm install ${VERDACCIO} failed:\n${r.stdout}\n${r.stderr}`);
  return bin;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function upstreamRegistry() {
  const r = spawnSync("npm", ["config", "get", "registry"], { encoding: "utf8" });
  const url = r.status === 0 ? r.stdout.trim() : "";
  return url.startsWith("http") ? url : "https://registry.npmjs.org/";
}

/**
 * Starts verdaccio with its storage in `workDir`. memtopo's names are never proxied, so a package of the same
 * name upstream can neither shadow nor block what the check publishes. Resolves to { url, token, stop }.
 */
export async function startRegistry(workDir, { cacheDir = path.join(os.homedir(), ".cache/memtopo-release") } = {}) {
  const bin = installVerdaccio(cacheDir);
  const port = await freePort();
  const storage = path.join(workDir, "registry-storage");
  fs.mkdirSync(storage, { recursive: true });
  const config = path.join(workDir, "verdaccio.yaml");
  fs.writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(storage)}`,
      "auth:",
      "  htpasswd:",
      `    file: ${JSON.stringify(path.join(workDir, "htpasswd"))}`,
      "    max_users: 10",
      "uplinks:",
      "  upstream:",
      `    url: ${JSON.stringify(upstreamRegistry())}`,
      "    timeout: 60s",
      "packages:",
      "  'memtopo':",
      "    access: $all",
      "    publish: $authenticated",
      "  '@memtopo/*':",
      "    access: $all",
      "    publish: $authenticated",
      "  '**':",
      "    access: $all",
      "    proxy: upstream",
      "log: { type: stdout, format: pretty, level: warn }",
      "",
    ].join("\n"),
  );
  const log = fs.openSync(path.join(workDir, "verdaccio.log"), "a");
  const child = spawn(bin, ["--config", config, "--listen", `127.0.0.1:${port}`], {
    stdio: ["ignore", log, log],
  });
  const url = `http://127.0.0.1:${port}/`;
  const stop = () => {
    if (child.exitCode === null) child.kill("SIGTERM");
  };
  try {
    await waitForPing(url, child);
    const token = await addUser(url);
    return { url, token, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

async function waitForPing(url, child) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode} (see verdaccio.log)`);
    try {
      const res = await fetch(`${url}-/ping`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("verdaccio did not answer /-/ping within 60 s");
}

/** What `npm adduser` does: a CouchDB-style user document, answered with a bearer token. */
async function addUser(url) {
  const name = "memtopo-release-check";
  const password = `pw-${process.pid}-${Date.now()}`;
  const res = await fetch(`${url}-/user/org.couchdb.user:${name}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password, type: "user", roles: [], date: new Date().toISOString() }),
  });
  const body = await res.json();
  if (!res.ok || typeof body.token !== "string")
    throw new Error(`adduser failed: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

/** An .npmrc that points every npm and pnpm command in `dir` at the registry, with the token for publishing. */
export function writeNpmrc(dir, { url, token }) {
  const host = url.replace(/^https?:/, "");
  fs.writeFileSync(path.join(dir, ".npmrc"), `registry=${url}\n${host}:_authToken=${token}\n`);
}
