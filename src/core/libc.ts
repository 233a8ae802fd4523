// The C library through bun:ffi, for the few things the runtime does not offer cheaply (the
// kernel's socket tables, local time without ICU). Each caller loads only the symbols it uses.
import { dlopen, type FFIFunction, type Library } from "bun:ffi";

/**
 * Loads `symbols` from this platform's C library; throws where there is none to load (Windows,
 * an unknown libc), so that callers fall back to a slower way.
 */
export function openLibc<Fns extends Record<string, FFIFunction>>(
  symbols: Fns,
): Library<Fns>["symbols"] {
  let lastError: unknown = new Error(`no C library known on ${process.platform}`);
  for (const name of LIBC_NAMES[process.platform] ?? []) {
    try {
      return dlopen(name, symbols).symbols;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

// --- internal ---

/** glibc's soname, then musl's (Alpine), then whatever the linker calls libc; macOS's libSystem. */
const LIBC_NAMES: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: [
    "libc.so.6",
    `libc.musl-${process.arch === "arm64" ? "aarch64" : "x86_64"}.so.1`,
    "libc.so",
  ],
  darwin: ["/usr/lib/libSystem.B.dylib"],
};
