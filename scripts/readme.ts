// The README as a release ships it. The repository's README links its reference by relative
// paths (`docs/cli.md`), which point nowhere once the README sits alone in an npm package or
// an archive: there each relative link becomes an address of the same file at the release's tag,
// and each relative image the raw file, so what a user clicks is the text of their version.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./build.ts";

export const REPOSITORY = "https://github.com/n3r/port-registry";
const RAW = "https://raw.githubusercontent.com/n3r/port-registry";

/** README.md with its relative links made absolute at tag `v<version>`. */
export function publishedReadme(
  version: string,
  text = readFileSync(join(ROOT, "README.md"), "utf8"),
): string {
  const ref = `v${version}`;
  // `[text](target)` and `![alt](target)`, target up to the first space or `)`; a title may follow
  return text.replace(
    /(!?)\[([^\]\n]*)\]\(([^)\s]+)/g,
    (whole, bang: string, label: string, target: string) => {
      if (!isRelative(target)) return whole;
      const path = target.replace(/^\.\//, "");
      const base = bang ? `${RAW}/${ref}` : `${REPOSITORY}/blob/${ref}`;
      return `${bang}[${label}](${base}/${path}`;
    },
  );
}

// --- internal ---

/** A path in the repository: no scheme (`https:`, `mailto:`), no anchor alone, not absolute. */
function isRelative(target: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith("#") && !target.startsWith("/");
}
