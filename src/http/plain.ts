/** A short plain-text answer: every error the node gives names its reason in one line. */
export function plain(status: number, reason: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "text/plain; charset=utf-8");
  h.delete("content-length");
  h.delete("repr-digest");
  return new Response(`${reason}\n`, { status, headers: h });
}
