// The served document itself: valid by two independent OpenAPI validators, complete (every
// operation named, no authentication said outright, the real address), and as strict as the
// server: for each rule, the document's verdict on a value is the server's.
import { describe, expect, test } from "bun:test";
import { validate } from "@readme/openapi-parser";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import { allocateRequestSchema, filterSchema, listQuerySchema } from "../../src/core/model.ts";
import { servedContract, TEST_PORT, testApp } from "../helpers/app.ts";
import type { OpenApiDoc } from "../helpers/contract.ts";

type Json = Record<string, unknown>;
const served = async () => structuredClone((await servedContract(testApp().app)).doc) as Json;

async function verdicts(doc: Json): Promise<{ readme: boolean; seriousme: boolean }> {
  const readme = await validate(structuredClone(doc) as never);
  const seriousme = await new Validator().validate(structuredClone(doc) as never);
  return { readme: readme.valid, seriousme: seriousme.valid };
}

describe("two independent validators", () => {
  test("@readme/openapi-parser and @seriousme/openapi-schema-validator both accept it", async () => {
    expect(await verdicts(await served())).toEqual({ readme: true, seriousme: true });
  });

  test("and both refuse a document broken on purpose (a response without description)", async () => {
    const doc = await served();
    const paths = doc.paths as Record<string, Record<string, Json>>;
    (paths["/healthz"]?.get as Json).responses = { 200: {} };
    expect(await verdicts(doc)).toEqual({ readme: false, seriousme: false });
  });
});

describe("what the document says outright", () => {
  test("every operation has a unique operationId and security: []", async () => {
    const doc = (await served()) as unknown as OpenApiDoc & { security: unknown };
    const ops = Object.values(doc.paths).flatMap((item) => Object.values(item));
    const ids = ops.map((op) => op.operationId);
    expect(ids.every((id) => typeof id === "string")).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.security).toEqual([]);
    expect(ops.map((op) => (op as { security?: unknown }).security)).toEqual(ops.map(() => []));
  });

  test("servers is the address this server listens on", async () => {
    expect((await served()).servers).toEqual([
      { url: `http://127.0.0.1:${TEST_PORT}`, description: "this daemon" },
    ]);
  });

  test("every operation declares 403 and 500; every write declares 413 and 415", async () => {
    const doc = (await served()) as unknown as OpenApiDoc;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const statuses = Object.keys(op.responses ?? {});
        expect({ path, method, statuses }).toMatchObject({
          statuses: expect.arrayContaining(["403", "500"]),
        });
        if (method === "post" || method === "delete") {
          expect(statuses).toEqual(expect.arrayContaining(["413", "415"]));
        }
      }
    }
  });
});

/** The document's schema for one location, compiled on its own. */
async function documented(pick: (doc: Json) => unknown): Promise<(v: unknown) => boolean> {
  const schema = pick(await served()) as Json;
  const ajv = new Ajv2020({ strict: false });
  const v = ajv.compile(schema);
  return (value) => v(value) as boolean;
}

const operation = (doc: Json, path: string, method: string) =>
  (doc.paths as Record<string, Record<string, Json>>)[path]?.[method] ?? {};
const requestSchema = (path: string, method: string) => (doc: Json) => {
  const body = operation(doc, path, method).requestBody as { content: Record<string, Json> };
  return body.content["application/json"]?.schema;
};
const queryParam = (path: string, method: string, name: string) => (doc: Json) => {
  const params = (operation(doc, path, method).parameters ?? []) as Json[];
  return params.find((p) => p.name === name)?.schema;
};

const NAMES = [
  "web",
  "  web  ",
  "\tweb\n",
  "a b",
  "café",
  "日本語",
  "",
  "   ",
  "\t",
  "a\u0000b",
  "a\u007fb",
  "a\u009fb",
  "a\tb",
  "a\nb",
  "x\u202ey",
  "\u2066x",
  "a\u200bb",
  "\ufeffweb",
  "web\u2028",
  "\u2029web",
  "a\u00adb",
  "\u3164",
  "a\ufe0f",
  "\u00a0web\u3000",
  "x".repeat(128),
  "x".repeat(129),
  ` ${"x".repeat(128)} `,
];

describe("the document is as strict as the server", () => {
  test.each(NAMES.map((n) => [JSON.stringify(n), n]))("name %s: same verdict", async (_, name) => {
    const doc = await documented(requestSchema("/v1/allocations", "post"));
    const body = { app: name, instance: "i", service: "s" };
    expect(doc(body)).toBe(allocateRequestSchema.safeParse(body).success);
  });

  test.each([[{}], [{ app: "a" }], [{ port: 80 }], [{ app: "a", extra: 1 }], [{ port: 0 }]])(
    "filter %j: same verdict",
    async (filter) => {
      const doc = await documented(requestSchema("/v1/allocations", "delete"));
      expect(doc(filter)).toBe(filterSchema.safeParse(filter).success);
    },
  );

  test.each(["", "1", "80", "65535", "0", "65536", "00080", "-1", "1e3", "abc", "99999"])(
    "?port=%p: same verdict",
    async (port) => {
      const doc = await documented(queryParam("/v1/allocations", "get", "port"));
      expect(doc(port)).toBe(listQuerySchema.safeParse({ port }).success);
    },
  );

  test.each(["true", "false", "1", "0", "", "yes"])("?reuse=%p: same verdict", async (flag) => {
    const doc = await documented(queryParam("/v1/allocations", "post", "reuse"));
    const t = testApp();
    const res = await t.post({ app: "a", instance: "b", service: "c" }, `?reuse=${flag}`);
    expect(doc(flag)).toBe(res.status === 201);
  });

  test.each(["1", "000000000000001", "01", "999999999999999", "1234567890123456", "0", "00", "+1"])(
    "id %p: same verdict",
    async (id) => {
      const doc = await documented(queryParam("/v1/allocations/{id}", "delete", "id"));
      const t = testApp();
      const status = (await t.send("DELETE", `/v1/allocations/${id}`)).status;
      expect(doc(id)).toBe(status !== 400);
    },
  );
});
