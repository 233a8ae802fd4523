// The skill's files, embedded at build time: `bun build --compile` inlines text imports, so
// `portctl skill install` works from a lone binary with no source tree beside it.

import workflowMd from "./port-manager/references/WORKFLOW.md" with { type: "text" };
import skillMd from "./port-manager/SKILL.md" with { type: "text" };

/** The skill's folder name, which the Agent Skills spec requires to equal its `name`. */
export const SKILL_NAME = "port-manager";

export interface SkillFile {
  /** Relative to the skill folder, with `/` separators. */
  path: string;
  content: string;
}

export const SKILL_FILES: readonly SkillFile[] = [
  { path: "SKILL.md", content: skillMd },
  { path: "references/WORKFLOW.md", content: workflowMd },
];
