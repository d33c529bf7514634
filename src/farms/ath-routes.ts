/**
 * mod_athena's HTTP face on the base:
 *
 *   GET /ath/update?farm=farm_one&member=web1&load=0.42&conns=17   a member's agent pushes stats
 *   GET /ath/balance/?farm_one                                      query mode: the chosen server
 *   GET /ath/balance/?farm_one&farm_two                             one line per farm
 *
 * Both need ATH_TOKEN (bearer, Basic password, or `token=` in the query as agents that
 * only do plain GET URLs send it). Bad input is refused whole, with a reason, before the
 * registry is touched: nothing is stored for an unknown farm or member or an odd value.
 */
import { FARM_NAME, type Farm } from "../config/farms-config";
import { plain, quoted } from "../http/plain";
import { presentedToken, sameSecret } from "../auth/secret-token";
import { chooseMember } from "./choose";
import { farmRecords, farmRegistry, invalidateFarmRecords, nextSequence, stickyClaim, type LoadedFarms } from "./runtime";

type AthEnv = Parameters<typeof farmRegistry>[0];

const UPDATE_PARAMS = new Set(["farm", "member", "load", "conns", "token"]);
/** Plain decimals only: no exponent, sign, hex or Infinity sneaks a huge value in. */
const LOAD = /^\d{1,7}(?:\.\d{1,6})?$/;
const CONNS = /^\d{1,9}$/;
const MAX_LOAD = 1_000_000;

async function authorize(farms: LoadedFarms, req: Request, url: URL): Promise<Response | null> {
  const secret = farms.config.athToken;
  if (secret === null) return plain(503, "the /ath endpoints are off: set the ATH_TOKEN secret to use them");
  if (await sameSecret(presentedToken(req.headers, url, "token"), secret)) return null;
  return plain(401, "a valid ATH_TOKEN is required (Authorization: Bearer <token>, or token=<token>)", { "www-authenticate": 'Bearer realm="ath"' });
}

export async function athUpdate(farms: LoadedFarms, req: Request, env: AthEnv): Promise<Response> {
  const url = new URL(req.url);
  const denied = await authorize(farms, req, url);
  if (denied) return denied;
  const params = url.searchParams;
  for (const name of new Set(params.keys())) {
    if (!UPDATE_PARAMS.has(name)) return plain(400, `unknown parameter ${quoted(name)} (known: ${[...UPDATE_PARAMS].join(", ")})`);
    if (params.getAll(name).length > 1) return plain(400, `parameter "${name}" is given more than once`);
  }
  const farmName = params.get("farm");
  const memberId = params.get("member");
  if (!farmName || !memberId) return plain(400, "farm and member are required, e.g. /ath/update?farm=farm_one&member=web1&load=0.42&conns=17");
  const farm = farms.config.farms.get(farmName);
  if (!farm) return plain(404, `unknown farm ${quoted(farmName)}`);
  if (!farm.members.some((m) => m.id === memberId)) return plain(404, `farm ${farm.name} has no member ${quoted(memberId)}`);
  const load = params.get("load");
  const conns = params.get("conns");
  if (load === null && conns === null) return plain(400, "nothing to store: give load and/or conns");
  if (load !== null && (!LOAD.test(load) || Number(load) > MAX_LOAD)) return plain(400, `load must be a plain decimal from 0 to ${MAX_LOAD} (e.g. 0.42)`);
  if (conns !== null && !CONNS.test(conns)) return plain(400, "conns must be a whole number from 0 to 999999999");
  const stats = { load: load === null ? null : Number(load), conns: conns === null ? null : Number(conns), at: Date.now() };
  await farmRegistry(env).pushStats(farm.name, memberId, stats);
  invalidateFarmRecords(env);
  return plain(200, `stored ${farm.name}/${memberId}: load=${stats.load ?? "-"} conns=${stats.conns ?? "-"}`, { "cache-control": "no-store" });
}

export async function athBalance(farms: LoadedFarms, req: Request, env: AthEnv, ctx: ExecutionContext): Promise<Response> {
  const url = new URL(req.url);
  const denied = await authorize(farms, req, url);
  if (denied) return denied;
  // mod_athena's form: the query is a bare farm name; several are joined by "&" (or ",").
  const names = url.search.slice(1).split(/[&,]/).filter((n) => n !== "" && !n.startsWith("token="));
  if (names.length === 0) return plain(400, "name a farm: /ath/balance/?farm_one (several: ?farm_one&farm_two)");
  if (names.length > 32) return plain(400, "at most 32 farms per query");
  const wanted: Farm[] = [];
  for (const name of names) {
    if (!FARM_NAME.test(name)) return plain(400, `${quoted(name)} is not a farm name (a letter, then letters, digits, _ or -)`);
    const farm = farms.config.farms.get(name);
    if (!farm) return plain(404, `unknown farm "${name}"`);
    wanted.push(farm);
  }
  const records = await farmRecords(env, ctx);
  const claim = await stickyClaim(farms, req.headers);
  const lines: string[] = [];
  for (const farm of wanted) {
    const choice = chooseMember(farms.config, farm, records, { path: "/", random: Math.random, sequence: nextSequence(env, farm.name), now: Date.now(), claim });
    const server = choice.ranked[0]?.url ?? choice.fallbackUrl;
    if (!server) {
      const why = choice.excluded.map((e) => `${e.member.id}: ${e.reason}`).join("; ");
      return plain(503, `farm ${farm.name} has no usable member and no fallbackUrl (${why})`, { "cache-control": "no-store" });
    }
    lines.push(server);
  }
  return plain(200, lines.join("\n"), { "cache-control": "no-store" });
}
