/**
 * A strict RFC 4180 parser for the tests of the admin's CSV exports: CRLF after every
 * record (the last one too), quotes only around a whole field, `""` the only escape,
 * every record as wide as the header. Throws an Error naming the record on anything else.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let i = 0;
  while (i < text.length) {
    const record: string[] = [];
    for (;;) {
      let field = "";
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw new Error(`record ${records.length + 1}: unterminated quoted field`);
          if (text[i] === '"') {
            if (text[i + 1] === '"') [field, i] = [field + '"', i + 2];
            else break;
          } else field += text[i++];
        }
        i++; // closing quote
      } else {
        while (i < text.length && text[i] !== "," && text[i] !== "\r" && text[i] !== "\n") {
          if (text[i] === '"') throw new Error(`record ${records.length + 1}: quote inside an unquoted field`);
          field += text[i++];
        }
      }
      record.push(field);
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text.startsWith("\r\n", i)) {
        i += 2;
        break;
      }
      throw new Error(`record ${records.length + 1}: expected , or CRLF at offset ${i}`);
    }
    if (records.length && record.length !== records[0]!.length) throw new Error(`record ${records.length + 1}: ${record.length} fields, header has ${records[0]!.length}`);
    records.push(record);
  }
  return records;
}
