// Build metadata, injected by scripts/build.ts through `bun build --define`; running from
// source leaves the fallbacks.
declare const PORT_SERVER_VERSION: string | undefined;
declare const PORT_SERVER_COMMIT: string | undefined;
declare const PORT_SERVER_BUILD_DATE: string | undefined;

export const VERSION: string =
  typeof PORT_SERVER_VERSION === "string" ? PORT_SERVER_VERSION : "dev";
export const COMMIT: string =
  typeof PORT_SERVER_COMMIT === "string" ? PORT_SERVER_COMMIT : "unknown";
export const BUILD_DATE: string =
  typeof PORT_SERVER_BUILD_DATE === "string" ? PORT_SERVER_BUILD_DATE : "unknown";

export function versionLine(program: string): string {
  return `${program} ${VERSION} (commit ${COMMIT}, built ${BUILD_DATE})`;
}
