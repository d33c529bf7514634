/** Section 4 of the scale model: what the traffic run of section 1 costs at list prices. */
import { DO_MEMORY_GB, num, section, table, usd } from "./common.mjs";

/** `c`: the main run of section 1 (trafficSections). */
export function costSection(p, c) {
  section(`4. Cost of the traffic run in section 1 (list-price defaults; check current pricing). TB = 10^12 bytes, GB = 10^9`);
  const tb = c.bytes / 1e12;
  const months = p.days / 30;
  const workerReq = 2 * c.downloads; // the base's 307 + the node's GET
  const cpuMs = c.downloads * (p["cpu-ms-base"] + p["cpu-ms-node"]);
  const doReq = c.limiterCalls + c.joins + c.reports + c.renews + c.fillAlarms;
  const doGbs = DO_MEMORY_GB * (c.fillDoSeconds + (c.limiterCalls * p["do-call-ms"]) / 1000);
  const baseHeads = c.downloads; // upper bound: INFO_CACHE_SECONDS hides most of these
  const gbMonth = c.storedByteSeconds / 1e9 / (30 * 86400);
  const items = [
    ["Workers requests (base 307 + node GET)", num(workerReq), (workerReq / 1e6) * p["price-worker-req"]],
    ["Workers CPU (ms)", num(cpuMs), (cpuMs / 1e6) * p["price-worker-cpu"]],
    ["Durable Object requests", num(doReq), (doReq / 1e6) * p["price-do-req"]],
    ["Durable Object duration (GB-s)", num(doGbs), (doGbs / 1e6) * p["price-do-gbs"]],
    ["Durable Object storage writes (fills)", num(c.doWrites), (c.doWrites / 1e6) * p["price-do-write"]],
    ["R2 storage (GB-month)", num(gbMonth, 1), gbMonth * p["price-r2-gb-month"]],
    ["R2 Class A", num(c.classA), (c.classA / 1e6) * p["price-r2-class-a"]],
    ["R2 Class B (nodes + <=1 base head per download)", num(c.classB + baseHeads), ((c.classB + baseHeads) / 1e6) * p["price-r2-class-b"]],
    ["R2 / Workers egress (GB)", num(c.bytes / 1e9), (c.bytes / 1e9) * p["price-r2-egress-gb"]],
  ];
  const edge = items.reduce((s, r) => s + r[2], 0);
  table(["item", "quantity", "cost", "per TB served"], [
    ...items.map(([n, q, cost]) => [n, q, usd(cost), usd(cost / tb, 4)]),
    ["edge total", "", usd(edge), usd(edge / tb, 4)],
  ]);
  console.log(`served ${num(tb, 1)} TB in ${p.days} days (${num(tb / months, 1)} TB/month); Workers Paid $5/month minimum and free allowances not included`);
  console.log("");
  table(["origin egress price", "without offload", "with offload", "saved per TB served", "edge cost per TB", "net saving per TB"],
    p["origin-egress-gb"].map((price) => {
      const without = (c.bytes / 1e9) * price;
      const withOff = (c.originBytes / 1e9) * price;
      return [`$${price}/GB`, usd(without), usd(withOff), usd((without - withOff) / tb), usd(edge / tb, 4), usd((without - withOff - edge) / tb)];
    }));
  // R2 keeps every filled version until it changes or 404s: a rarely fetched file costs storage every month.
  const breakEven = p["origin-egress-gb"].map((price) => `${num(price / p["price-r2-gb-month"], 1)} months at $${price}/GB`).join(", ");
  console.log(`a stored file costs less than re-sending it from the origin only while it is downloaded at least once per ${breakEven}`);
}
