import { ConfigError } from "../config/fields";
import type { ProxyRoute } from "../config/proxy-config";
import { CONTROL_HEADERS, createSendfile, type SendfileHandler } from "../proxy/sendfile/sendfile";
import { responseThrottle, type ResponseThrottle } from "../throttle";

/** What a proxy route does to a backend's answer: X-Sendfile first, then the throttle. */
export interface RouteHooks {
  sendfile: SendfileHandler;
  throttle: ResponseThrottle | null;
}

/** Built once per route at config time, so a bad root or rate fails at start, naming the field. */
export function routeHooks(route: ProxyRoute): RouteHooks {
  let sendfile: SendfileHandler;
  let throttle: ResponseThrottle | null = null;
  try {
    // Not allowed (or not configured) still strips X-Sendfile / X-Accel-Redirect from answers.
    sendfile = createSendfile(route.sendfile ?? { allow: false, root: "origin:" });
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

export function backendHook(hooks: RouteHooks, req: Request, env: Env, route?: { sendfile: { allow: boolean } | null }): (res: Response) => Promise<Response> {
  if (route && !route.sendfile?.allow && !hooks.throttle) {
    // Nothing to serve or pace: only the control fields go (the headers are proxy.ts's own copy).
    return (res) => {
      for (const h of CONTROL_HEADERS) res.headers.delete(h);
      return Promise.resolve(res);
    };
  }
  return async (res) => {
    const served = await hooks.sendfile(req, res, env);
    return hooks.throttle ? hooks.throttle(served) : served;
  };
}
