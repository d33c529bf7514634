/** A short plain-text answer: every error the node gives names its reason in one line. */
export function plain(status: number, reason: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "text/plain; charset=utf-8");
  h.delete("content-length");
  h.delete("repr-digest");
  return new Response(`${reason}\n`, { status, headers: h });
}

/**
 * Client input quoted for an error reason: JSON-quoted, cut to `max` characters, with
 * "<", ">" and "&" as \u escapes, so an echoed name cannot turn into markup even where a
 * client ignores the text/plain type.
 */
export function quoted(input: string, max = 80): string {
  const cut = input.length > max ? `${input.slice(0, max)}...` : input;
  return JSON.stringify(cut).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
