// What an agent host hands its hook on stdin (Claude Code, Codex and Gemini CLI share the
// fields we read): the session's id, its working folder, and for WorktreeRemove the worktree's
// path. Untrusted: size-bounded, parsed, each field checked before use.
import { isAbsolute } from "node:path";
import { PortError } from "../../core/errors.ts";
import { parseSessionId } from "../flags.ts";

export const HOOK_HOSTS = ["claude", "codex", "gemini"] as const;
export type HookHost = (typeof HOOK_HOSTS)[number];

export interface HookInput {
  session: string;
  cwd?: string;
  event?: string;
  /** WorktreeRemove: the worktree being removed (it may already be gone). */
  worktreePath?: string;
}

const MAX_INPUT_BYTES = 1024 * 1024;

export function parseHookInput(text: string): HookInput {
  if (text.length > MAX_INPUT_BYTES) throw bad("the hook's input is larger than 1 MiB");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad("the hook's input is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw bad("the hook's input is not a JSON object");
  }
  const v = value as Record<string, unknown>;
  let session: string;
  try {
    session = parseSessionId(String(v.session_id ?? ""));
  } catch (err) {
    throw bad(`the hook's session_id ${(err as Error).message}`);
  }
  return {
    session,
    ...optionalPath(v, "cwd", "cwd"),
    ...optionalPath(v, "worktree_path", "worktreePath"),
    ...(typeof v.hook_event_name === "string" ? { event: v.hook_event_name } : {}),
  };
}

// --- internal ---

function optionalPath(
  v: Record<string, unknown>,
  field: string,
  key: "cwd" | "worktreePath",
): Partial<HookInput> {
  const path = v[field];
  if (path === undefined) return {};
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters
  if (typeof path !== "string" || !isAbsolute(path) || /[\u0000-\u001f\u007f]/.test(path)) {
    throw bad(`the hook's ${field} is not an absolute path`);
  }
  return { [key]: path };
}

function bad(message: string): PortError {
  return new PortError("bad_request", message);
}
