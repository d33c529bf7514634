/**
 * The base bench's own Miniflare: every base worker variant, the bare 307 baseline and a
 * set-up helper in ONE workerd process (Miniflare API, direct sockets), like stack.mjs
 * does for the node bench. stack.mjs's startBenchStack is not reused because it always
 * adds the node baselines (cache, R2) and none of these.
 *
 *   <base workers>   the real base bundle (wrangler.base.toml), one per vars set; the
 *                    first one owns the Durable Objects (HealthRegistry, ConcurrencyLimiter),
 *                    the others use it, so all share one health registry.
 *   bench-307        bare baseline: a fixed 307 to node + path, the base's headers' shape
 *   bench-307-full   bare: answers with the exact status, header list and body PUT to it
 *   (-signed/-mirror) once (captured from the base): the same bytes on the wire, no logic
 *   bench-base-admin set-up only, never timed: PUT /meta writes nodes' R2 meta pointers
 *                    (what the base reads sizes and digests from), POST /loads reports
 *                    node loads to the HealthRegistry (as the Cron's probes would).
 *
 * No Cron Trigger is configured, so nothing ever probes the (non-existent) node URLs.
 * Direct sockets carry `cfBlobHeader: "MF-CF-Blob"` (miniflare sets it on every direct
 * socket), so a client may send request.cf as JSON in that header.
 */
import path from "node:path";
import { bootWorkerd } from "./workerd-boot.mjs";

export const BASELINE_307 = "bench-307";
export const ADMIN = "bench-base-admin";
/** Bare 307 workers answering with a header list captured from the base (the ceiling). */
export const FULL_307 = "bench-307-full";
export const FULL_307_SIGNED = "bench-307-full-signed";
export const FULL_307_MIRROR = "bench-307-full-mirror";

/** Location host of the bare baseline (same shape as the base's: node URL + path + query). */
export const BASELINE_NODE = "http://node-a.bench.invalid";

const bare307 = `
export default {
  fetch(req) {
    const url = new URL(req.url);
    const location = ${JSON.stringify(BASELINE_NODE)} + url.pathname + url.search;
    return new Response("redirecting to " + location + "\\n", {
      status: 307,
      headers: { location, "cache-control": "private, no-store", "content-type": "text/plain; charset=utf-8" },
    });
  },
};`;

// The template lives in the isolate's module scope (one isolate per worker in workerd).
// Its fields go into one Headers object, once: a Response made from a ready Headers is the
// cheapest workerd makes (from [name, value] pairs it costs about twice as much), so this
// is the best any code sending these fields could do.
const fullHeaders307 = `
let t = null;
export default {
  async fetch(req) {
    if (req.method === "PUT") {
      t = await req.json();
      t.fields = new Headers();
      for (const [name, value] of t.headers) t.fields.append(name, value);
      return new Response("template set\\n");
    }
    const url = new URL(req.url);
    if (!t || url.pathname + url.search !== t.target) return new Response("no template for this path\\n", { status: 404 });
    return new Response(t.body, { status: t.status, headers: t.fields });
  },
};`;

const admin = `
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (req.method === "PUT" && url.pathname === "/meta") {
      const body = await req.json(); // one meta record or an array of them
      const metas = Array.isArray(body) ? body : [body];
      for (let i = 0; i < metas.length; i += 50) {
        await Promise.all(metas.slice(i, i + 50).map((m) => env.STORE.put("meta" + m.key, "", { customMetadata: { meta: JSON.stringify(m) } })));
      }
      return Response.json({ stored: metas.length });
    }
    if (req.method === "POST" && url.pathname === "/loads") {
      const loads = await req.json(); // { id: load }
      const registry = env.HEALTH.get(env.HEALTH.idFromName("registry"));
      const obs = Object.entries(loads).map(([id, load]) => ({ id, ok: true, detail: "bench", load, source: "active" }));
      await registry.observe(obs, { rise: 2, fall: 2 });
      return Response.json(await registry.snapshot());
    }
    return new Response("bench-base-admin: unknown endpoint\\n", { status: 404 });
  },
};`;

/**
 * @param {object} o
 * @param {string} o.bundlePath base bundle (buildWorkerBundle with wrangler.base.toml)
 * @param {import("../stack/worker-build.mjs").WorkerConfig} o.workerConfig wrangler.base.toml
 * @param {string} o.persistDir
 * @param {Record<string, Record<string, string>>} o.bases worker name -> vars (first = DO owner)
 * @param {() => void} [o.onBoot] after the start (Miniflare re-registers signal hooks)
 */
export async function startBaseStack({ bundlePath, workerConfig, persistDir, bases, onBoot }) {
  const names = Object.keys(bases);
  const owner = names[0];
  const direct = [{ host: "127.0.0.1", port: 0 }];
  const common = { modules: true, compatibilityDate: workerConfig.compatibilityDate, compatibilityFlags: workerConfig.compatibilityFlags, unsafeDirectSockets: direct };
  const doBindings = (own) => Object.fromEntries(workerConfig.durableObjects.map((d) => [
    d.binding,
    own ? { className: d.className, useSQLite: d.sqlite } : { className: d.className, scriptName: owner, useSQLite: d.sqlite },
  ]));
  const workers = [
    ...names.map((name) => ({
      ...common,
      name,
      scriptPath: bundlePath,
      modulesRoot: path.dirname(bundlePath),
      bindings: bases[name],
      r2Buckets: workerConfig.r2Buckets,
      durableObjects: doBindings(name === owner),
      // no `triggers`/crons: health checks never run
    })),
    { ...common, name: BASELINE_307, script: bare307 },
    { ...common, name: FULL_307, script: fullHeaders307 },
    { ...common, name: FULL_307_SIGNED, script: fullHeaders307 },
    { ...common, name: FULL_307_MIRROR, script: fullHeaders307 },
    { ...common, name: ADMIN, script: admin, r2Buckets: workerConfig.r2Buckets, durableObjects: { HEALTH: { className: "HealthRegistry", scriptName: owner, useSQLite: true } } },
  ];
  return bootWorkerd({ workers, persistDir, onBoot });
}
export { cpuMs } from "./workerd-boot.mjs";
