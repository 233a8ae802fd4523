// npm's postinstall for port-server: puts the native binary in place of the launchers, so
// each `portctl` call starts the binary itself (a Node launcher in front costs ~50 ms a call).
// Where it cannot (no binary for this platform, a read-only folder), it says so and leaves the
// launchers, which explain the problem or run the binary through Node.
"use strict";
const { install, locate } = require("./native.cjs");

const binary = locate();
if (binary instanceof Error) {
  console.warn(`port-server: ${binary.message}`);
} else {
  try {
    install(binary);
  } catch (error) {
    console.warn(
      `port-server: could not link the native binary (${error.message}); portctl will start through Node`,
    );
  }
}
