// The contract helper itself: it must fail on each way a response can break the document,
// or the "every response validates" of the other API tests would prove nothing.
import { describe, expect, test } from "bun:test";
import { servedContract, testApp } from "../helpers/app.ts";
import type { Contract } from "../helpers/contract.ts";
import { UNOWNED } from "../helpers/fakes.ts";

const JSON_TYPE = { "content-type": "application/json" };
const alloc = {
  id: 1,
  app: "a",
  instance: "b",
  service: "c",
  port: 3000,
  created_at: "x",
  ...UNOWNED,
  name: "c.a.localhost",
  url: null,
};

async function contract(): Promise<Contract> {
  return servedContract(testApp().app);
}

function res(status: number, body: unknown, headers: Record<string, string> = JSON_TYPE) {
  return new Response(typeof body === "string" ? body : JSON.stringify(body), { status, headers });
}

describe("the contract helper refuses", () => {
  test.each([
    [
      "an undeclared status",
      "GET",
      "/v1/allocations",
      res(409, { error: "x", code: "port_in_use" }),
      /status 409 is not declared/,
    ],
    [
      "an extra field on an error",
      "GET",
      "/v1/allocations",
      res(400, { error: "x", code: "bad_request", port: 1 }),
      /does not match/,
    ],
    [
      "a code of another status",
      "GET",
      "/v1/allocations",
      res(400, { error: "x", code: "forbidden" }),
      /does not match/,
    ],
    [
      "a 409 port_in_use without its details",
      "POST",
      "/v1/allocations",
      res(409, { error: "x", code: "port_in_use" }),
      /does not match/,
    ],
    [
      "a body of the wrong shape",
      "POST",
      "/v1/allocations",
      res(201, { ...alloc, port: 0 }),
      /does not match/,
    ],
    ["a body that is not JSON", "GET", "/v1/allocations", res(200, "nope"), /not JSON/],
    [
      "an empty body (Bun's own 413)",
      "POST",
      "/v1/allocations",
      res(413, "", {}),
      /Content-Type "" is not declared/,
    ],
    [
      "a 405 without Allow",
      "PUT",
      "/healthz",
      res(405, { error: "x", code: "method_not_allowed" }),
      /Allow/,
    ],
    ["a 200 where no operation exists", "GET", "/v1/nope", res(200, []), /only 404/],
  ])("%s", async (_, method, path, response, why) => {
    const c = await contract();
    await expect(c.check(method, path, response)).rejects.toThrow(why);
  });
});

describe("the contract helper accepts", () => {
  test.each([
    ["a listed allocation", "GET", "/v1/allocations?app=a", res(200, [alloc])],
    [
      "a typed port_in_use",
      "POST",
      "/v1/allocations",
      res(409, { error: "x", code: "port_in_use", port: 80, system: { in_use: true } }),
    ],
    [
      "a 405 with Allow",
      "PUT",
      "/healthz",
      res(405, { error: "x", code: "method_not_allowed" }, { ...JSON_TYPE, allow: "GET, HEAD" }),
    ],
    ["a HEAD where GET is declared", "HEAD", "/healthz", res(200, "")],
  ])("%s", async (_, method, path, response) => {
    const c = await contract();
    await c.check(method, path, response);
  });
});
