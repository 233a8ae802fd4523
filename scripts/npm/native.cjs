// Shared by the npm package's install script and its launchers: where this platform's
// native port-server binary is, and how to put it in place of the launchers so that
// `portctl` runs the binary directly, with no Node process in front of it.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");

/** process.platform-process.arch → the package that carries the binary. */
const PLATFORMS = {
  "linux-x64": "@port-server/linux-x64",
  "linux-arm64": "@port-server/linux-arm64",
  "darwin-x64": "@port-server/darwin-x64",
  "darwin-arm64": "@port-server/darwin-arm64",
};
const NAMES = ["portctl", "port-server"];
const OWN = require("./package.json");

/** The absolute path of the native binary, or an Error with a one-line message. */
function locate() {
  const key = `${process.platform}-${process.arch}`;
  const name = PLATFORMS[key];
  if (!name) {
    return new Error(
      `no port-server binary for ${key} (supported: ${Object.keys(PLATFORMS).join(", ")})`,
    );
  }
  let manifest;
  try {
    manifest = require.resolve(`${name}/package.json`, { paths: [__dirname] });
  } catch {
    return new Error(
      `${name} is not installed; reinstall without omitting optional dependencies: npm install -g port-server`,
    );
  }
  const version = JSON.parse(fs.readFileSync(manifest, "utf8")).version;
  if (version !== OWN.version) {
    return new Error(
      `${name} is version ${version} but port-server is ${OWN.version}; reinstall: npm install -g port-server@${OWN.version}`,
    );
  }
  return path.join(path.dirname(manifest), "bin", "portctl");
}

/**
 * Replaces bin/portctl and bin/port-server (the launchers) with the binary: a hard link, or a
 * copy where a link is impossible. Each name is swapped in by rename from a fresh temp name
 * created exclusively, so a half-written file is never seen and no planted file is followed.
 */
function install(binary) {
  rewriteWhole(binary);
  const dir = path.join(__dirname, "bin");
  for (const name of NAMES) {
    const target = path.join(dir, name);
    const temp = path.join(dir, `.${name}.${crypto.randomBytes(6).toString("hex")}.tmp`);
    try {
      fs.linkSync(binary, temp);
    } catch {
      fs.copyFileSync(binary, temp, fs.constants.COPYFILE_EXCL);
    }
    try {
      fs.chmodSync(temp, 0o755);
      fs.renameSync(temp, target);
    } catch (error) {
      fs.rmSync(temp, { force: true });
      throw error;
    }
  }
}

/**
 * Writes the binary anew in one kernel copy and renames it over the extracted file. npm's
 * extraction writes it in small pieces, and Linux then keeps it in the page cache as 4 KiB
 * pages: every start of the 100 MB executable faulted ~1-1.5 ms longer than a binary written in
 * large pieces (bench/npm-install). Best effort: where it fails the extracted file stays.
 */
function rewriteWhole(binary) {
  const temp = `${binary}.${crypto.randomBytes(6).toString("hex")}.tmp`;
  try {
    fs.copyFileSync(binary, temp, fs.constants.COPYFILE_EXCL);
    fs.chmodSync(temp, 0o755);
    fs.renameSync(temp, binary);
  } catch {
    fs.rmSync(temp, { force: true });
  }
}

module.exports = { PLATFORMS, NAMES, locate, install };
