/**
 * A value that a per-isolate memo answers at once once it holds it, and only the first
 * request (or one after expiry) has to wait for. The hot paths chain on it with `andThen`
 * below instead of `await`: an await suspends the function and costs a microtask even
 * for a value that is already there, and an async function's returned promise costs
 * another hop per level (issue #13, counted under callgrind by scripts/bench-base).
 *
 * Only native promises count as "not yet": the values carried here are plain records
 * (a health record keyed by a target named "then" must not pass for a thenable).
 * Inside an async function (the node's download path) a Soon is awaited only when it is
 * a promise: `const v = soon instanceof Promise ? await soon : soon`, since `await` on a
 * value that is already there still costs a microtask turn.
 */
export type Soon<T> = T | Promise<T>;

/**
 * `f(value)` now when `value` is there, else once it is. Not named `then`: a module
 * exporting `then` is itself a thenable, and awaiting its namespace would call it.
 */
export function andThen<T, U>(value: Soon<T>, f: (value: T) => Soon<U>): Soon<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}
