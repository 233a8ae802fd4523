// The dashboard's files, bundled by Bun from ui/index.html (its script and stylesheet). In the
// compiled executable the bundle is made at build time and embedded (`page.files`); from source
// (development, tests) it is bundled once, on the first request. Either way the files are
// served by our own routes, so the page passes the same guards and carries the same headers as
// the API (Bun's own HTML routes would bypass both).
import { basename } from "node:path";
import page from "./index.html";

export interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

/** URL path (`/` for the page, `/chunk-….js` …) → the file. */
export type Assets = ReadonlyMap<string, Asset>;

let loading: Promise<Assets> | undefined;

export function dashboardAssets(): Promise<Assets> {
  loading ??= load().catch((err) => {
    loading = undefined; // a failed bundle is retried on the next request
    throw err;
  });
  return loading;
}

// --- internal ---

async function load(): Promise<Assets> {
  const assets = new Map<string, Asset>();
  if (page.files?.length) {
    for (const f of page.files) {
      const body = new Uint8Array(await Bun.file(f.path).arrayBuffer());
      const path = f.path === page.index ? "/" : `/${basename(f.path)}`;
      assets.set(path, { body, type: f.headers["content-type"], etag: f.headers.etag });
    }
    return assets;
  }
  const built = await Bun.build({ entrypoints: [page.index], minify: true, target: "browser" });
  if (!built.success) throw new Error(`dashboard bundle failed: ${built.logs.join("; ")}`);
  for (const out of built.outputs) {
    const path = out.path.endsWith(".html") ? "/" : `/${basename(out.path)}`;
    const body = new Uint8Array(await out.arrayBuffer());
    assets.set(path, { body, type: out.type, etag: out.hash ?? String(body.length) });
  }
  return assets;
}
