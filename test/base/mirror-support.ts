// Real mirrors (test/support/mirror-servers.mjs) and a base whose background work can be
// awaited: the inventory verifies a file's mirrors in ctx.waitUntil, so a test waits on
// the execution context instead of on a clock.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/base-index";
import { putFile, type PathStats } from "../support/origin";

const testEnv = env as unknown as Env & { TEST_MIRROR_PORTS: string; TEST_MIRROR_CONTROL_PORTS: string };
const ports = testEnv.TEST_MIRROR_PORTS.split(",");
const controls = testEnv.TEST_MIRROR_CONTROL_PORTS.split(",");
export const realMirrorUrl = (i: number) => `http://127.0.0.1:${ports[i]}`;

async function control(i: number, method: string, path: string): Promise<Response> {
  const res = await fetch(`http://127.0.0.1:${controls[i]}${path}`, { method });
  if (!res.ok) throw new Error(`mirror ${i} control ${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

/** A copy on mirror `i` (same size, seed and mtime as on the origin = the current version). */
export async function putOnMirror(i: number, path: string, size: number, opts: { seed?: number; mtime: number }): Promise<void> {
  await (await control(i, "PUT", `/files${path}?size=${size}&seed=${opts.seed ?? 1}&mtime=${opts.mtime}`)).text();
}

export const mirrorDown = async (i: number) => void (await (await control(i, "POST", "/down")).text());
export const mirrorUp = async (i: number) => void (await (await control(i, "POST", "/up")).text());

const variants = new Map<string, Env>();

/** The base with these vars (one env per variant, as a deployment); waits for its background work. */
export async function settledFetch(vars: Record<string, string>, path: string, method = "GET"): Promise<Response> {
  const id = JSON.stringify(vars);
  let variant = variants.get(id);
  if (!variant) variants.set(id, (variant = { ...(env as object), ...vars } as unknown as Env));
  const ctx = createExecutionContext();
  const req = new Request(`http://base.test${path}`, { method, headers: { "cf-connecting-ip": "198.51.100.7" }, redirect: "manual" });
  const res = await worker.fetch(req as Request<unknown, IncomingRequestCfProperties>, variant, ctx);
  const body = await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return new Response(method === "HEAD" ? null : body, { status: res.status, headers: res.headers });
}

/** Every URL the answer names as a place to get the file. */
export function namedUrls(res: Response): string[] {
  const link = [...(res.headers.get("link") ?? "").matchAll(/<([^>]+)>; rel=duplicate/g)].map((m) => m[1]!);
  const mirrored = (res.headers.get("x-mirrored-by") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  return [...link, ...mirrored, res.headers.get("location") ?? ""].filter(Boolean);
}

/** The default config's m1 (/iso/ under /pub, in FR), on a real mirror that can hold files. */
export const realM1Url = `${realMirrorUrl(0)}/pub`;
export const withRealM1 = { MIRRORS: JSON.stringify([{ id: "m1", url: realM1Url, prefixes: ["/iso/"], location: { lat: 48.85, lon: 2.35, country: "FR" } }]) };

/** The file on the origin and its current copy on the real m1; the mirror's copy is then verified. */
export async function putMirrored(path: string, size: number, vars: Record<string, string> = withRealM1): Promise<void> {
  const mtime = 1_700_000_000;
  await putFile(path, size, { mtime });
  await putOnMirror(0, `/pub${path}`, size, { mtime });
  await settledFetch(vars, path);
}

/** A file with this body on mirror `i` (a checksum list, say). */
export async function putTextOnMirror(i: number, path: string, text: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${controls[i]}/files${path}`, { method: "PUT", body: text });
  if (!res.ok) throw new Error(`mirror ${i} PUT ${path}: ${res.status} ${await res.text()}`);
  await res.text();
}

/** What mirror `i` answered for this path so far (HEADs, GETs, 304s). */
export async function mirrorStats(i: number, path: string): Promise<PathStats> {
  return (await control(i, "GET", `/stats?path=${encodeURIComponent(path)}`)).json();
}
