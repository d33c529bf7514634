/**
 * Helpers shared by the cold-path figures (issue #12): waiting for a commit, finding a
 * stored version's chunk objects in R2, the chunk size the node workers run with.
 * Chunk names are src/store/layout.ts's chunkKey(): chunk/<version>-<fill>/<index><key>.
 */
export const MiB = 1024 ** 2;
export const MB = 1e6;
/** src/config/node-config.ts DEFAULT_CHUNK_SIZE (kept in step by hand: this is plain JS). */
export const DEFAULT_CHUNK_SIZE = 8 * MiB;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it is true; false after `timeoutMs`. */
export async function until(check, everyMs, timeoutMs) {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return false;
}

/** Whether the node has a committed copy (HEAD through node-r2 says "hit" once the pointer exists). */
export async function isStored(stack, path) {
  const r = await fetch(stack.url("node-r2") + path, { method: "HEAD" });
  return (r.headers.get("cache-status") ?? "").includes("hit");
}

export async function waitStored(stack, path, timeoutMs = 180_000) {
  if (!(await until(() => isStored(stack, path), 200, timeoutMs))) throw new Error(`${path} was never stored`);
}

/** CHUNK_SIZE of the node workers for these vars. */
export function chunkSizeOf(vars) {
  return vars.CHUNK_SIZE ? Number(vars.CHUNK_SIZE) : DEFAULT_CHUNK_SIZE;
}

/**
 * The chunk objects of the one stored version of `path`, by index: [{ key, size }].
 * Throws unless exactly one fill's chunks exist and they are 0..n-1 without a gap.
 */
export async function chunkObjects(stack, path) {
  const res = await fetch(`${stack.url("bench-admin")}/r2-list?prefix=chunk/`);
  const byFill = new Map();
  for (const o of await res.json()) {
    const rest = o.key.slice("chunk/".length);
    const slash = rest.indexOf("/");
    const tail = rest.slice(slash + 1);
    if (!tail.endsWith(path)) continue;
    const index = tail.slice(0, tail.length - path.length);
    if (!/^\d+$/.test(index)) continue;
    const fill = rest.slice(0, slash);
    if (!byFill.has(fill)) byFill.set(fill, []);
    byFill.get(fill)[Number(index)] = o;
  }
  if (byFill.size !== 1) throw new Error(`expected the chunks of one fill of ${path} in R2, found ${byFill.size}`);
  const [[fill, chunks]] = byFill;
  if (chunks.some((c) => !c) || chunks.length === 0) throw new Error(`chunks of ${path} (fill ${fill}) have gaps`);
  return { prefix: `chunk/${fill}/`, chunks };
}

/** Origin body bytes for `path` since the last reset, and its GET counts. */
export async function originBytes(origin, path) {
  const st = await origin.control.stats(path);
  return { bodyBytes: st.bodyBytes, gets: st.gets, rangeGets: st.rangeGets, heads: st.heads };
}
