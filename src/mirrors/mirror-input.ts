/**
 * A mirror as the admin sends it (JSON API or HTML form), checked by the same rules as
 * MIRRORS (config/targets.ts targetSpec, so every per-mirror field it knows is accepted
 * here too) plus the link rules every redirect header relies on and, unless
 * MIRRORS_ALLOW_PRIVATE, a public host. Pure: no storage, no platform calls.
 */
import { ConfigError } from "../config/fields";
import { privateAddressProblem } from "../config/public-address";
import { targetSpec, type TargetSpec } from "../config/targets";
import { mirrorUrlProblem } from "../http/link";

export type Checked = { ok: true; spec: TargetSpec } | { ok: false; reason: string };

const WHERE = "mirror";

/** The mirror `input` describes, or why not as `field: reason` (the field as the client named it). */
export function checkMirrorInput(input: Record<string, unknown>, allowPrivate: boolean): Checked {
  if (input["kind"] !== undefined && input["kind"] !== "mirror") return { ok: false, reason: 'kind: must be "mirror" (offload nodes are configured, not added here)' };
  let spec: TargetSpec;
  try {
    spec = targetSpec({ ...input, kind: undefined }, WHERE, "mirror");
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const field = e.field.slice(WHERE.length + 1);
    return { ok: false, reason: `${field}: ${e.message.slice(`invalid config ${e.field}: `.length)}` };
  }
  const link = mirrorUrlProblem(spec.url);
  if (link) return { ok: false, reason: `url: ${link}` };
  const privateHost = allowPrivate ? null : privateAddressProblem(spec.url);
  if (privateHost) return { ok: false, reason: `url: ${privateHost}` };
  return { ok: true, spec };
}

/**
 * The current mirror with `patch` applied: a field set to null is dropped (back to its
 * default), `id` cannot change. The whole result is checked again, as on add.
 */
export function patchMirror(current: TargetSpec, patch: Record<string, unknown>, allowPrivate: boolean): Checked {
  if (patch["id"] !== undefined && patch["id"] !== current.id) return { ok: false, reason: "id: cannot be changed (delete the mirror and add it again)" };
  const merged: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete merged[k];
    else if (v !== undefined) merged[k] = v;
  }
  return checkMirrorInput(merged, allowPrivate);
}
