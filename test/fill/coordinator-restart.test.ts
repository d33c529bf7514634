import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FillCoordinator } from "../../src/fill/coordinator";
import type { JoinRequest, JoinResult } from "../../src/fill/protocol";

const ns = (env as unknown as { FILLS: DurableObjectNamespace<FillCoordinator> }).FILLS;
const MiB = 1024 * 1024;

function active(r: JoinResult) {
  if (r.kind !== "active") throw new Error(`expected an active fill, got ${r.kind}`);
  return r;
}

// A FillCoordinator keeps leases and progress streams in memory and the stored set in its
// storage. A second instance over the same storage is what a restart (eviction, deploy)
// leaves: the real object code, nothing faked.
describe("FillCoordinator restart mid-fill", () => {
  it("does not lease again the chunks a filler that is still running reports", async () => {
    const key = `/restart/${crypto.randomUUID()}.bin`;
    const req: JoinRequest = {
      key,
      target: key,
      version: '"v1"',
      head: { etag: '"v1"', lastModified: null, length: 10 * MiB, contentType: "application/octet-stream", cacheControl: null },
      chunkSize: MiB,
      window: null,
    };
    const stub = ns.get(ns.idFromName(`${key}\n"v1"`));
    await runInDurableObject(stub, async (before: FillCoordinator, state) => {
      const filler = active(await before.join(req));
      expect(filler.lease).toMatchObject({ next: 0, end: 10 });
      const lease = filler.lease!.id;
      expect(await before.report({ key, fill: filler.fill, lease, end: 10, index: 0, sha256: "0".repeat(64) })).toEqual({ ok: true, held: true });
      await filler.progress.cancel();

      const after = new FillCoordinator(state, env as unknown as Env);
      // The filler never noticed the restart: its next chunk reaches the new instance...
      expect(await after.report({ key, fill: filler.fill, lease, end: 10, index: 1, sha256: "1".repeat(64) })).toEqual({ ok: true, held: true });
      // ...so a client joining now should follow that filler, not fetch chunks 2-9 from the
      // origin a second time (each of their R2 keys written twice within a chunk's time).
      const late = active(await after.join(req));
      await late.progress.cancel();
      expect(late.lease).toBeNull();
    });
  });
});
