// The Claude Code plugin folder every release carries (`plugin/` in each archive and in the npm
// package): the same files `portctl skill install --plugin DIR` writes, from the same source
// (src/skill/plugin.ts: the skill, .mcp.json and hooks/hooks.json), stamped with the release's
// version.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pluginFiles } from "../src/skill/plugin.ts";

export const PLUGIN_FOLDER = "plugin";

/** Writes the plugin into `<dir>/plugin` (a fresh staging folder: nothing is there yet). */
export function writePluginFolder(dir: string, version: string): void {
  for (const file of pluginFiles(version)) {
    const path = join(dir, PLUGIN_FOLDER, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
  }
}
