// @ts-check
/**
 * The one-way layers of docs/architecture.md, checked by `bash scripts/test` before the
 * tests run (`npx depcruise src --config .dependency-cruiser.cjs`). A room (a folder of
 * src/) may import from the layers below its own and, inside its layer, only without
 * cycles between folders; the two workers' rooms stay apart. A violation prints the rule
 * and the offending import, e.g. `error layer-config: src/config/x.ts → src/store/y.ts`.
 */
const fs = require("node:fs");
const path = require("node:path");

/** Bottom to top: each layer may import the ones listed before it, never one after it. */
const LAYERS = [
  { name: "net", rooms: ["net"] },
  { name: "config", rooms: ["config"] },
  { name: "helpers", rooms: ["http", "platform", "signing", "auth", "balancers", "throttle"] },
  { name: "store", rooms: ["store"] },
  { name: "services", rooms: ["origin", "fill", "limits", "health", "stats", "mirrors"] },
  { name: "features", rooms: ["node", "proxy", "farms", "base"] },
  { name: "admin", rooms: ["admin"] },
];
/** The top layer: the two workers' entry points (wrangler.toml and wrangler.base.toml `main`). */
const WIRING = "^src/(index|base-index)\\.ts$";

/** Rooms only one worker deploys (tsconfig.json leaves the base's out of the node's build). */
const NODE_ONLY = ["node", "fill"];
const BASE_ONLY = ["base", "farms", "admin", "health", "mirrors"];

/**
 * TEMPORARY (issue #13): imports that break a layer rule, listed exactly (from -> to) so
 * that nothing else can slip through. Each needs a change in a file another change is
 * editing right now; remove the entry when that lands.
 */
const TEMPORARY = [
];

const roomOf = (file) => file.split("/")[1];
const TEMPORARY_ROOMS = [...new Set(TEMPORARY.filter((t) => t.cycle).flatMap((t) => [roomOf(t.from), roomOf(t.to)]))];

const roomsPath = (rooms) => `^src/(${rooms.join("|")})/`;
const exact = (files) => `^(${files.map((f) => f.replace(/[.]/g, "\\.")).join("|")})$`;

// Every folder of src/ must sit in a layer: a new room is placed here and in the doc first.
const placed = new Set(LAYERS.flatMap((l) => l.rooms));
for (const entry of fs.readdirSync(path.join(__dirname, "src"), { withFileTypes: true })) {
  if (entry.isDirectory() && !placed.has(entry.name)) {
    throw new Error(`src/${entry.name}/ is in no layer: add it to LAYERS in .dependency-cruiser.cjs and to docs/architecture.md`);
  }
}

/** A forbidden rule, minus the TEMPORARY pairs named for it (each kept to its one target). */
function rule(name, comment, from, to) {
  const excepted = TEMPORARY.filter((t) => t.rule === name);
  const files = [...new Set(excepted.map((t) => t.from))];
  const general = { name, comment, severity: "error", from: files.length ? { ...from, pathNot: exact(files) } : from, to };
  return [
    general,
    ...files.map((file) => ({
      name,
      comment: `${comment} (TEMPORARY exception for ${file}: see TEMPORARY)`,
      severity: "error",
      from: { path: exact([file]) },
      to: { ...to, pathNot: exact(excepted.filter((t) => t.from === file).map((t) => t.to)) },
    })),
  ];
}

const layerRules = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(i + 1).flatMap((l) => l.rooms);
  return rule(
    `layer-${layer.name}`,
    `${layer.rooms.join(", ")} may import only layers below (${LAYERS.slice(0, i).map((l) => l.name).join(", ") || "none"}), never ${LAYERS.slice(i + 1).map((l) => l.name).join(", ")} or the wiring`,
    { path: roomsPath(layer.rooms) },
    { path: above.length ? `${roomsPath(above)}|${WIRING}` : WIRING },
  );
});

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    ...rule(
      "features-one-way",
      "inside the features layer: proxy -> farms -> base, and the node alone (it is the other worker)",
      { path: "^src/(node|proxy|farms)/" },
      { path: "^src/(base)/" },
    ),
    ...rule("features-proxy-first", "proxy/ imports no other feature (farms and base build on it)", { path: "^src/proxy/" }, { path: "^src/(farms|node)/" }),
    ...rule(
      "node-worker-only",
      "node/ and fill/ are the node worker's: only src/index.ts and each other use them",
      { path: "^src/", pathNot: `${roomsPath(NODE_ONLY)}|^src/index\\.ts$` },
      { path: roomsPath(NODE_ONLY) },
    ),
    ...rule(
      "base-worker-only",
      "base/, farms/, admin/ and health/ are the base worker's: only src/base-index.ts and each other use them",
      { path: "^src/", pathNot: `${roomsPath(BASE_ONLY)}|^src/base-index\\.ts$` },
      { path: roomsPath(BASE_ONLY) },
    ),
    {
      name: "no-folder-cycle",
      comment: "rooms import each other one way only (also inside a layer)",
      severity: "error",
      scope: "folder",
      // Folder rules cannot name one import: the rooms of a TEMPORARY pair are left out
      // here (their other imports are still checked, exactly, by the layer rules).
      from: TEMPORARY_ROOMS.length ? { path: "^src/", pathNot: `^src/(${TEMPORARY_ROOMS.join("|")})$` } : { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "no-module-cycle",
      comment: "no import cycle between modules",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "src-not-to-tests-or-scripts",
      comment: "production code never imports test/ or scripts/",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|scripts)/" },
    },
    {
      name: "not-to-unresolvable",
      comment: "every import resolves",
      severity: "error",
      from: {},
      // cloudflare:workers is the Workers runtime's own module.
      to: { couldNotResolve: true, pathNot: "^cloudflare:" },
    },
  ],
  options: {
    // TypeScript 7.0 has no JavaScript API dependency-cruiser can use: swc parses the
    // sources, type-only imports included (a type import is a dependency too).
    parser: "swc",
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    // Workers runtime modules (cloudflare:workers) and Node builtins are not ours to check.
    exclude: { path: "^(node_modules|types)/" },
    // Resolve package subpaths (hono/html) through their "exports", as the bundler does.
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "types", "default"] },
  },
};
