/**
 * A HEAD's answer: the fields the GET would carry and no content (RFC 9110 §9.3.2), as
 * Hono answers a HEAD. For workers that answer some requests without Hono's router (the
 * base's catch-all, the node's downloads), so a HEAD there is answered as it was through it.
 * `method`: the request's, as the caller read it.
 */
export function headAware(method: string, res: Response): Response {
  return method === "HEAD" && res.body !== null ? new Response(null, res) : res;
}
