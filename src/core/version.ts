// Build metadata, injected by scripts/build.ts through `bun build --define`; running from
// source falls back to package.json's version (the one version number) and no commit.
import { version as PACKAGE_VERSION } from "../../package.json" with { type: "json" };

declare const PORT_SERVER_VERSION: string | undefined;
declare const PORT_SERVER_COMMIT: string | undefined;
declare const PORT_SERVER_BUILD_DATE: string | undefined;

export const VERSION: string =
  typeof PORT_SERVER_VERSION === "string" ? PORT_SERVER_VERSION : PACKAGE_VERSION;
export const COMMIT: string =
  typeof PORT_SERVER_COMMIT === "string" ? PORT_SERVER_COMMIT : "unknown";
export const BUILD_DATE: string =
  typeof PORT_SERVER_BUILD_DATE === "string" ? PORT_SERVER_BUILD_DATE : "unknown";

export function versionLine(program: string): string {
  return `${program} ${VERSION} (commit ${COMMIT}, built ${BUILD_DATE})`;
}

/** Running as the compiled executable: its own modules live under /$bunfs/ (B:/~BUN/ on Windows). */
export function isCompiled(): boolean {
  return Bun.main.startsWith("/$bunfs/") || Bun.main.includes("~BUN");
}
