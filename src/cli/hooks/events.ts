// Which host event runs which of our hook commands, and how a Claude Code entry is written:
// shared by `portctl hooks install` and the Claude Code plugin (src/skill/plugin.ts).

export type HookCommand = "start" | "heartbeat" | "end";

/** Generous: the hooks take well under a second, but a loaded machine must not kill them. */
export const TIMEOUT_SECONDS = 30;

/** Claude Code: a heartbeat on each prompt and each tool use (no WorktreeRemove: install.ts). */
export const CLAUDE_EVENTS: Readonly<Record<string, HookCommand>> = {
  SessionStart: "start",
  UserPromptSubmit: "heartbeat",
  PostToolUse: "heartbeat",
  SessionEnd: "end",
};

/** A Claude Code hook entry: a heartbeat runs in the background (`async`), never in the way. */
export function claudeEntry(command: string, sub: HookCommand): Record<string, unknown> {
  return {
    type: "command",
    command,
    timeout: TIMEOUT_SECONDS,
    ...(sub === "heartbeat" ? { async: true } : {}),
  };
}
