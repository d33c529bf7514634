import { ConfigError } from "../config/fields";
import type { ProxyRoute } from "../config/proxy-config";
import { CONTROL_HEADERS, createSendfile, type SendfileHandler } from "../proxy/sendfile/sendfile";
import { responseThrottle, type ResponseThrottle } from "../throttle";

/** What a proxy route does to a backend's answer: X-Sendfile first, then the throttle. */
export interface RouteHooks {
  /** Null when the route does not allow X-Sendfile: its control fields are only removed. */
  sendfile: SendfileHandler | null;
  throttle: ResponseThrottle | null;
}

/** The control fields, removed with the hop-by-hop ones when no sendfile handler reads them. */
const HIDDEN: ReadonlySet<string> = new Set(CONTROL_HEADERS);

/** Built once per route at config time, so a bad root or rate fails at start, naming the field. */
export function routeHooks(route: ProxyRoute): RouteHooks {
  let sendfile: SendfileHandler | null = null;
  let throttle: ResponseThrottle | null = null;
  try {
    // Checked even when not allowed: a bad root is a configuration error either way.
    const handler = createSendfile(route.sendfile ?? { allow: false, root: "origin:" });
    if (route.sendfile?.allow) sendfile = handler;
  } catch (e) {
    throw new ConfigError(`${route.field}.sendfile.root`, (e as Error).message);
  }
  try {
    if (route.throttle !== null) throttle = responseThrottle(route.throttle, route.throttleBurstBytes);
  } catch (e) {
    throw new ConfigError(`${route.field}.throttle`, (e as Error).message);
  }
  return { sendfile, throttle };
}

/**
 * What proxyRequest is given for one request of a route: the fields it hides from the
 * client and the hook it hands the backend's answer to. A route that neither serves
 * files nor paces gets no hook: its answer goes out as proxy.ts made it, one copy of the
 * backend's fields with the control fields already gone (not allowed, X-Sendfile and
 * X-Accel-* still never reach the client).
 */
export function backendHook(hooks: RouteHooks, req: Request, env: Env): { hidden?: ReadonlySet<string>; onBackendResponse?: (res: Response) => Promise<Response> } {
  const { sendfile, throttle } = hooks;
  if (!sendfile) return throttle ? { hidden: HIDDEN, onBackendResponse: (res) => Promise.resolve(throttle(res)) } : { hidden: HIDDEN };
  return {
    onBackendResponse: async (res) => {
      const served = await sendfile(req, res, env);
      return throttle ? throttle(served) : served;
    },
  };
}
