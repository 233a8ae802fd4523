// A bounded, schema-driven fuzz of the API in-process: for every operation of the served
// document, valid requests generated from its schemas and invalid ones made by breaking them
// one way, all sent to one app whose state carries over. Every response is checked against the
// document (testApp does it); besides: no 5xx ever; a request the document allows is never
// refused as malformed; one it forbids is a 4xx and changes nothing; the server stays healthy.
// FUZZ_SEED and FUZZ_ROUNDS (per operation and kind) replay or widen a run.
import { expect, test } from "bun:test";
import { servedContract, testApp } from "../helpers/app.ts";
import { fakeProcesses } from "../helpers/fakes.ts";
import { type Generated, operationsOf, RequestFuzzer } from "../helpers/fuzz.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 230);

const LEASER = 4242;
/** Answers a valid request may get: success, or a refusal about the registry's state. */
const STATE_REFUSALS = new Set([404, 409]);
/** What the guards answer whatever the body: the mutations that trip them. */
const GUARD_STATUS: Record<string, number> = {
  "foreign Host": 403,
  "cross-site": 403,
  "Content-Type text/plain": 415,
  "body over the limit": 413,
};

test(
  `${ROUNDS} valid and ${ROUNDS} invalid requests per operation, from the document (seed ${SEED})`,
  async () => {
    // One running process for leases to name (the fake process table knows only it).
    const t = testApp({ range: { lo: 3000, hi: 3999 }, processes: fakeProcesses([[LEASER, "1"]]) });
    const { doc } = await servedContract(t.app);
    const fuzzer = new RequestFuzzer(doc, { lease_pid: LEASER });
    const ops = operationsOf(doc);
    const tally = new Map<string, number>();
    const problems: string[] = [];
    let sent = 0;

    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, op] of ops.entries()) {
        const seed = SEED + round * 7919 + i * 104729;
        for (const g of [fuzzer.valid(op, seed), fuzzer.invalid(op, seed)]) {
          const problem = await exchange(t, g);
          sent++;
          if (problem) problems.push(problem);
          const key = `${g.valid ? "valid" : "invalid"} ${g.method} ${op.path}`;
          tally.set(key, (tally.get(key) ?? 0) + 1);
        }
      }
    }

    const valid = [...tally].filter(([k]) => k.startsWith("valid")).reduce((n, [, c]) => n + c, 0);
    console.log(`fuzz: ${sent} requests (${valid} valid, ${sent - valid} invalid), seed ${SEED}`);
    expect(problems.slice(0, 10)).toEqual([]);
    expect(sent).toBe(ROUNDS * ops.length * 2);
    // Each operation got requests of both kinds: the generator did not collapse to one.
    for (const op of ops) {
      expect(tally.get(`valid ${op.method} ${op.path}`) ?? 0).toBeGreaterThan(0);
      expect(tally.get(`invalid ${op.method} ${op.path}`) ?? 0).toBeGreaterThan(0);
    }
    expect((await t.get("/healthz")).status).toBe(200);
  },
  Math.max(120_000, ROUNDS * 600),
);

/** Sends one request; returns what is wrong with the exchange, if anything. */
async function exchange(t: ReturnType<typeof testApp>, g: Generated): Promise<string | undefined> {
  const before = g.valid ? undefined : JSON.stringify(t.store.list());
  let res: Response;
  try {
    // testApp checks the response against the document and throws if it breaks it.
    res = await t.send(g.method, g.target, { body: g.body, headers: g.headers });
  } catch (err) {
    return `${describe(g)}: ${(err as Error).message.split("\n")[0]}`;
  }
  const s = res.status;
  const guard = GUARD_STATUS[g.kind];
  if (s >= 500) return `${describe(g)}: ${s}`;
  if (g.valid && !(s < 300 || STATE_REFUSALS.has(s))) {
    return `${describe(g)}: the document allows it, the server answered ${s} ${await res.text()}`;
  }
  if (!g.valid) {
    // A path parameter names a resource: one that cannot exist may be 404 (a static asset).
    const allowed = guard !== undefined ? [guard] : g.kind.startsWith("path ") ? [400, 404] : [400];
    if (!allowed.includes(s)) {
      return `${describe(g)}: the document forbids it, the server answered ${s} ${await res.text()}`;
    }
    if (JSON.stringify(t.store.list()) !== before)
      return `${describe(g)}: refused but changed the registry`;
  }
  return undefined;
}

function describe(g: Generated): string {
  const body = g.body === undefined ? "" : ` ${g.body.slice(0, 120)}`;
  return `[${g.kind}] ${g.method} ${g.target.slice(0, 120)}${body}`;
}
