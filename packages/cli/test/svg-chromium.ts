import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const DEFAULT_WINDOW = { width: 800, height: 600 };

/** The headless browser the picture tests render with, or why there is none. */
export function findChromium(): { path: string } | { missing: string } {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    const r = spawnSync("which", [name], { encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim() !== "") return { path: r.stdout.trim() };
  }
  return { missing: "no chromium on PATH (Debian: apt-get install -y chromium)" };
}

/** Renders a local SVG or HTML file to a PNG of the given size with headless Chromium. */
export function screenshot(chromium: string, file: string, width: number, height: number): Uint8Array {
  const png = path.join(path.dirname(file), `${path.basename(file)}.png`);
  const r = spawnSync(
    chromium,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--hide-scrollbars",
      "--disable-dev-shm-usage",
      `--screenshot=${png}`,
      `--window-size=${width},${height}`,
      pathToFileURL(file).href,
    ],
    { encoding: "utf8", timeout: 90_000 },
  );
  if (!fs.existsSync(png)) throw new Error(`chromium wrote no screenshot (status ${r.status}): ${r.stderr}`);
  return new Uint8Array(fs.readFileSync(png));
}

/** The DOM of a page after its scripts ran (headless Chromium's --dump-dom), in a window of the given size. */
export function dumpDom(
  chromium: string,
  file: string,
  window: { width: number; height: number } = DEFAULT_WINDOW,
): string {
  const r = spawnSync(
    chromium,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      `--window-size=${window.width},${window.height}`,
      "--dump-dom",
      pathToFileURL(file).href,
    ],
    { encoding: "utf8", timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`chromium --dump-dom failed (status ${r.status}): ${r.stderr}`);
  return r.stdout;
}
