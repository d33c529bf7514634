/**
 * A node Worker's line to one FillCoordinator. workerd keeps a stub broken once its object
 * has reset (a deploy, an eviction, a crash): every later call through it throws. So after
 * a failed call the next one goes through a fresh stub, and a call worth repeating is tried
 * once more after a short pause: the object restarts from its storage and takes its caller
 * back. Errors marked `overloaded` are not repeated (that would add to the overload).
 */
import type { FillCoordinator } from "./coordinator";

export type CoordinatorStub = DurableObjectStub<FillCoordinator>;

/** Pause before the one repeat of a call that threw. */
const RETRY_PAUSE_MS = 500;

export class CoordinatorLink {
  private stub: CoordinatorStub;

  /** `connect`: a new stub to the object, for the first call and after every failure. */
  constructor(private readonly connect: () => CoordinatorStub) {
    this.stub = connect();
  }

  /** `f` through the current stub; `retry`: repeat once if it throws. */
  async call<T>(f: (stub: CoordinatorStub) => Promise<T>, retry = false): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const stub = this.stub;
      try {
        return await f(stub);
      } catch (e) {
        if (this.stub === stub) this.stub = this.connect();
        if (!retry || attempt > 0 || (e as { overloaded?: boolean }).overloaded) throw e;
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
      }
    }
  }
}
