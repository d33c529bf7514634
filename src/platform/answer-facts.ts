/**
 * An answer's status and fields as the stages after its maker read them: the download
 * guard (its length), the stats recorder (Cache-Status, length, validators), Cache-Status
 * stamping and the error log. Each read of a Response's status or headers, and each
 * Headers.get, is a call into the runtime; on a 1 KiB hit those stages made about twenty
 * of them for facts the code that built the answer already held (issue #13).
 *
 * So the maker tells them (`toldAnswer`: the complete field record the answer is built
 * from), and a wrapper that keeps status and fields passes them on (`sameFacts`); an
 * answer nobody told about is read from the Response, each field once.
 */
import { perIsolate } from "./per-isolate";

/** What the later stages read of an answer: a subset of Response + Headers. */
export interface AnswerFacts {
  readonly status: number;
  /** Whether it has a body (`body !== null`), content or not. */
  readonly hasBody: boolean;
  /** The field's value, as Headers.get gives it (null when absent). */
  get(name: string): string | null;
}

/** An answer's complete fields by lower-case name (the record its Headers were made from). */
export type FieldRecord = Readonly<Record<string, string>>;

/** Facts told by the answer's maker: its fields are exactly `fields`. */
class Told implements AnswerFacts {
  constructor(
    readonly status: number,
    readonly hasBody: boolean,
    private readonly fields: FieldRecord,
  ) {}

  get(name: string): string | null {
    return this.fields[name.toLowerCase()] ?? null;
  }
}

/** Facts read from the Response, on first ask and once per field. */
class Read implements AnswerFacts {
  private statusRead: number | undefined;
  private bodyRead: boolean | undefined;
  private readonly values = new Map<string, string | null>();
  private headers: Headers | undefined;

  constructor(private readonly res: Response) {}

  get status(): number {
    return (this.statusRead ??= this.res.status);
  }

  get hasBody(): boolean {
    return (this.bodyRead ??= this.res.body !== null);
  }

  get(name: string): string | null {
    const key = name.toLowerCase();
    let v = this.values.get(key);
    if (v === undefined) {
      v = (this.headers ??= this.res.headers).get(key);
      this.values.set(key, v);
    }
    return v;
  }
}

/** Per answer: `told` is read only on an answer's first call (perIsolate), i.e. when it is made. */
const factsFor = perIsolate((res: Response, told?: AnswerFacts): AnswerFacts => told ?? new Read(res));

/** The facts of `res`: as its maker told them, else read from it (each field once). */
export function factsOf(res: Response): AnswerFacts {
  return factsFor(res);
}

/**
 * A new answer of `status` with exactly the fields `fields` (lower-case names), and its
 * facts told. `headers`: the same fields as a Headers already made (kept ones), else
 * they are made from the record. The record must not change afterwards. A stream or no
 * body only: the Response adds no field for those (a string body would add Content-Type).
 */
export function toldAnswer(body: ReadableStream<Uint8Array> | null, status: number, fields: FieldRecord, headers?: Headers): Response {
  const res = new Response(body, { status, headers: headers ?? fields });
  factsFor(res, new Told(status, body !== null, fields));
  return res;
}

/** `next`, made from `res` with its status and fields (a Response as init), told `res`'s facts. */
export function sameFacts(res: Response, next: Response): Response {
  factsFor(next, factsOf(res));
  return next;
}
