// Wiring only: the offload node app and the Durable Objects it uses.
import { offloadNode } from "./node/app";

export { ConcurrencyLimiter } from "./limits/concurrency-limiter";
export { FillCoordinator } from "./fill/coordinator";

export default offloadNode();
