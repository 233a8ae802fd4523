// The floor reference of bench/cli-latency.ts: the least a compiled Bun program can do to
// answer `portctl check`, one fetch of the URL it is given and its body printed. Compiled with
// the options scripts/build.ts gives portctl, so the gap between the two is our own code.
export {};

const res = await fetch(Bun.argv[2] ?? "");
console.log(await res.text());
