// Plain HTTP clients of the stack tests: one request per connection (no pooling), so a
// test controls exactly which connection reads, aborts or comes from which address.
import http from "node:http";

/** GET on its own connection, from source address `from` when given; resolves with the response, body unread. */
export function get(url, { headers = {}, from } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false, ...(from ? { localAddress: from } : {}) }, resolve);
    req.once("error", reject);
  });
}

/** Reads the body to its end; resolves with its length in bytes. */
export function drain(res) {
  return new Promise((resolve, reject) => {
    let n = 0;
    res.on("data", (c) => (n += c.length));
    res.once("end", () => resolve(n));
    res.once("error", reject);
    res.resume();
  });
}
