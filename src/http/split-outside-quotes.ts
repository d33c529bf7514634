/**
 * Splits a field value on `sep` (`,` between list members, `;` between parameters) except
 * inside quoted strings: RFC 9110 §5.6.4 quoted-string and RFC 8941 §3.3.3 sf-string
 * share the DQUOTE delimiters and backslash escapes, so one splitter serves Accept and
 * Cache-Status alike. Pieces are returned as written (quotes, escapes and spaces kept);
 * an unterminated quote runs to the end. Pure and total: never throws.
 */
export function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === "\\") {
      current += c + (text[i + 1] ?? "");
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  return parts;
}
