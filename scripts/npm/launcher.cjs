#!/usr/bin/env node
// npm's entry for portctl and port-server until the native binary takes its place (the
// install script does that; npm --ignore-scripts or a script policy skips it). It finds the
// binary, tries once to put it in its own place so later calls skip Node, then runs it under
// the name it was called by (the binary picks its role from that name) with the same
// arguments, stdio and exit status.
"use strict";
const { spawnSync } = require("node:child_process");
const path = require("node:path");
const { install, locate } = require("../native.cjs");

const name = path.basename(__filename);
const binary = locate();
if (binary instanceof Error) {
  console.error(`${name}: ${binary.message}`);
  process.exit(1);
}
try {
  install(binary);
} catch {
  // A read-only install folder: keep starting through this launcher.
}
const result = spawnSync(binary, process.argv.slice(2), { stdio: "inherit", argv0: name });
if (result.error) {
  console.error(`${name}: cannot run ${binary}: ${result.error.message}`);
  process.exit(1);
}
if (result.signal) process.kill(process.pid, result.signal);
process.exit(result.status ?? 1);
