/**
 * Text into XML or HTML (content and quoted attribute values): the five characters with a
 * meaning there become references. `'` becomes the numeric `&#39;`, which both XML 1.0
 * (§4.1) and HTML accept; the named `&apos;` is not an HTML 4 entity.
 */
const REFERENCES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (c) => REFERENCES[c] ?? c);
}
