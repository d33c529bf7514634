/**
 * Integrity fields of RFC 9530: Repr-Digest / Content-Digest are structured-field
 * dictionaries (RFC 8941 §3.2) of algorithm -> byte sequence, e.g.
 * `sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:`.
 */

/** The SHA-256 named in a digest field, as lowercase hex; undefined when absent or malformed. */
export function sha256FromDigestField(value: string | null): string | undefined {
  if (!value) return undefined;
  for (const member of value.split(",")) {
    const m = /^\s*sha-256\s*=\s*:([A-Za-z0-9+/]+={0,2}):\s*$/.exec(member);
    if (!m?.[1]) continue;
    let bytes: string;
    try {
      bytes = atob(m[1]);
    } catch {
      return undefined;
    }
    if (bytes.length !== 32) return undefined;
    return [...bytes].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  }
  return undefined;
}

/** RFC 9530 §2 field value for a hex SHA-256. */
export function sha256DigestField(hex: string): string {
  // Digit values from char codes, not parseInt of slices: every answer from a copy runs this.
  let binary = "";
  for (let i = 0; i + 1 < hex.length; i += 2) binary += String.fromCharCode(hexDigit(hex.charCodeAt(i)) * 16 + hexDigit(hex.charCodeAt(i + 1)));
  return `sha-256=:${btoa(binary)}:`;
}

/** A hex digit's value (0-9, a-f, A-F); NaN for anything else (never in a SHA-256 we computed). */
function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : NaN;
}
