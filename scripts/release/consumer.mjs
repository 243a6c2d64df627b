// The release check's user side: fresh folders outside any repository that install memtopo from the registry
// only (npm; pnpm with install scripts blocked; one leaf package alone) and use it as docs/getting-started.md says.
import fs from "node:fs";
import path from "node:path";

const pnpm = ["-y", "pnpm@10.34.9"];
const TOOLS = ["tsx@4.20.6", "typescript@5.9.3", "@types/node@20.19.25"];
const FULL = [
  "memtopo",
  "@memtopo/region-tree",
  "@memtopo/kvm",
  "@memtopo/kvm-mock",
  "@memtopo/kvm-native",
  "@memtopo/qemu-text",
  "@memtopo/cli",
];

/** The strictest settings users have, under both module resolutions TypeScript offers ESM users. */
const STRICT = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  skipLibCheck: false,
  target: "ES2022",
  noEmit: true,
  types: ["node"],
};
const RESOLUTIONS = {
  node16: { module: "node16", moduleResolution: "node16" },
  bundler: { module: "esnext", moduleResolution: "bundler" },
};

/** Each ```ts block of the page with the ```text block that follows it, when one says what it prints. */
export function examples(markdown) {
  const blocks = [...markdown.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], code: m[2] }));
  const out = [];
  for (const [i, block] of blocks.entries()) {
    if (block.lang !== "ts") continue;
    const next = blocks[i + 1];
    out.push({ code: block.code, prints: next?.lang === "text" ? next.code : undefined });
  }
  return out;
}

function freshProject(dir, registry) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "package.json"),
    `${JSON.stringify({ name: path.basename(dir), private: true, type: "module" }, null, 2)}\n`,
  );
  fs.writeFileSync(path.join(dir, ".npmrc"), `registry=${registry.url}\n`);
}

export async function runConsumerChecks({ work, registry, root, repo, check, run }) {
  const guide = fs.readFileSync(path.join(root, "docs/getting-started.md"), "utf8");
  const snippets = examples(guide);
  const strictProgram = fs.readFileSync(path.join(root, "scripts/release/fixtures/every-package.ts"), "utf8");

  const consumers = [
    {
      label: "npm",
      dir: path.join(work, "consumer-npm"),
      install: (dir) => run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", ...FULL, ...TOOLS], dir),
    },
    {
      label: "pnpm (install scripts blocked)",
      dir: path.join(work, "consumer-pnpm"),
      install: (dir) => run("npx", [...pnpm, "add", ...FULL, ...TOOLS], dir),
    },
  ];

  for (const consumer of consumers) {
    const { label, dir } = consumer;
    freshProject(dir, registry);
    await check(`${label}: install ${FULL.join(" ")} from the registry`, () => {
      consumer.install(dir);
    });
    const bin = path.join(dir, "node_modules/.bin");

    await check(`${label}: npx memtopo demo`, () => {
      const out = run(path.join(bin, "memtopo"), ["demo"], dir);
      if (!/FlatView #0/.test(out)) throw new Error(`no flat view in the demo's output:\n${out.slice(0, 2000)}`);
      return out.match(/^backend: .*$/m)?.[0] ?? "no backend line";
    });

    for (const [i, snippet] of snippets.entries()) {
      await check(`${label}: getting-started example ${i + 1} runs with tsx and prints what the page says`, () => {
        const file = path.join(dir, `example-${i + 1}.ts`);
        fs.writeFileSync(file, snippet.code);
        const out = run(path.join(bin, "tsx"), [file], dir);
        if (snippet.prints !== undefined && out.trimEnd() !== snippet.prints.trimEnd()) {
          throw new Error(`printed:\n${out}\nthe page says:\n${snippet.prints}`);
        }
      });
    }

    await check(`${label}: CommonJS require() of the ESM-only packages (Node's require(esm))`, () => {
      fs.writeFileSync(
        path.join(dir, "cjs.cjs"),
        'const { MemorySystem } = require("memtopo");\nconst { MemoryRegion } = require("@memtopo/region-tree");\n' +
          "console.log(typeof MemorySystem, typeof MemoryRegion);\n",
      );
      const out = run(process.execPath, ["cjs.cjs"], dir).trim();
      if (out !== "function function") throw new Error(`printed ${JSON.stringify(out)}`);
    });

    fs.writeFileSync(path.join(dir, "every-package.ts"), strictProgram);
    for (const [resolution, options] of Object.entries(RESOLUTIONS)) {
      await check(
        `${label}: tsc --noEmit, strict + exactOptionalPropertyTypes + noUncheckedIndexedAccess, ${resolution}`,
        () => {
          const files = ["every-package.ts", ...snippets.map((_, i) => `example-${i + 1}.ts`)];
          fs.writeFileSync(
            path.join(dir, `tsconfig.${resolution}.json`),
            JSON.stringify({ compilerOptions: { ...STRICT, ...options }, files }, null, 2),
          );
          run(path.join(bin, "tsc"), ["-p", `tsconfig.${resolution}.json`], dir);
        },
      );
    }
  }

  // No registry at all: the tarballs scripts/release/pack.mjs makes, installed by path, as getting-started says.
  const packs = path.join(work, "tarballs");
  const fromTarballs = path.join(work, "consumer-tarballs");
  freshProject(fromTarballs, registry);
  await check("npm: the packed tarballs install by path and run getting-started's first example", () => {
    run(process.execPath, [path.join(repo, "scripts/release/pack.mjs"), packs], repo);
    const tarballs = fs.readdirSync(packs).filter((f) => f.endsWith(".tgz"));
    run(
      "npm",
      ["install", "--no-audit", "--no-fund", "--ignore-scripts", ...tarballs.map((t) => path.join(packs, t)), ...TOOLS],
      fromTarballs,
    );
    const file = path.join(fromTarballs, "example-1.ts");
    fs.writeFileSync(file, snippets[0].code);
    const out = run(path.join(fromTarballs, "node_modules/.bin/tsx"), [file], fromTarballs);
    if (out.trimEnd() !== snippets[0].prints.trimEnd()) throw new Error(`printed:\n${out}`);
    return `${tarballs.length} tarballs`;
  });

  const leaf = path.join(work, "consumer-leaf");
  freshProject(leaf, registry);
  await check("npm: @memtopo/flatview alone installs and renders a view", () => {
    run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "@memtopo/flatview"], leaf);
    const deps = fs.readdirSync(path.join(leaf, "node_modules/@memtopo")).sort();
    fs.writeFileSync(
      path.join(leaf, "leaf.mjs"),
      [
        'import { MemoryRegion, StandaloneHost, SIZE_2_64 } from "@memtopo/region-tree";',
        'import { renderFlatView } from "@memtopo/flatview";',
        "const host = new StandaloneHost();",
        'const root = new MemoryRegion(host, { kind: "container", name: "root", size: SIZE_2_64 });',
        'root.addSubregion(0x1000n, new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x1000n }));',
        "const view = renderFlatView(root);",
        "console.log(view.ranges.length, view.ranges[0].mr.name);",
        "",
      ].join("\n"),
    );
    const out = run(process.execPath, ["leaf.mjs"], leaf).trim();
    if (out !== "1 ram") throw new Error(`leaf program printed ${JSON.stringify(out)}`);
    return `node_modules/@memtopo: ${deps.join(", ")}`;
  });
}
