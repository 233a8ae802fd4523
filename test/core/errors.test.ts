// One error path: the status table is the server's and the client's, and every file-system
// failure is one `filesystem` error worded from one errno table.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  API_CODES,
  codeForStatus,
  errorBody,
  fileError,
  fileReason,
  HTTP_STATUS,
} from "../../src/core/errors.ts";

describe("codeForStatus: the client reads a status through the server's table", () => {
  test("every API code whose status is its own comes back as itself", () => {
    for (const code of API_CODES) {
      const shared = API_CODES.filter((c) => HTTP_STATUS[c] === HTTP_STATUS[code]);
      if (shared.length === 1) expect(codeForStatus(HTTP_STATUS[code])).toBe(code);
    }
  });

  test("a 5xx is not called a database failure unless it is the database's 503", () => {
    expect(codeForStatus(503)).toBe("storage");
    expect(codeForStatus(500)).toBe("internal");
    expect(codeForStatus(502)).toBe("internal");
    expect(codeForStatus(504)).toBe("internal");
  });

  test("an unknown 4xx is a bad request; 409 is a conflict code", () => {
    expect(codeForStatus(418)).toBe("bad_request");
    expect(HTTP_STATUS[codeForStatus(409)]).toBe(409);
  });

  test("codes only portctl raises are never in the API's list", () => {
    for (const code of ["unreachable", "daemon", "filesystem"] as const)
      expect(API_CODES).not.toContain(code);
  });
});

describe("fileError", () => {
  const dir = mkdtempSync(join(tmpdir(), "errors-"));
  const failure = (fn: () => void): unknown => {
    try {
      fn();
    } catch (err) {
      return err;
    }
    throw new Error("did not fail");
  };

  test("a missing folder when writing, a missing file when reading", () => {
    const write = failure(() => writeFileSync(join(dir, "no/such/file"), "x"));
    expect(fileError("write", "/p", write).message).toBe("cannot write /p: no such folder");
    expect(fileReason(write)).toBe("no such file");
  });

  test("a folder in the way; the path travels in the JSON body", () => {
    const e = fileError(
      "write",
      dir,
      failure(() => writeFileSync(dir, "x")),
    );
    expect(e.code).toBe("filesystem");
    expect(errorBody(e)).toEqual({
      error: `cannot write ${dir}: it is a folder`,
      code: "filesystem",
      path: dir,
    });
  });

  test("an unknown errno keeps the system's first line, without the code prefix", () => {
    const err = Object.assign(new Error("EWEIRD: something odd\n    at stack"), { code: "EWEIRD" });
    expect(fileReason(err)).toBe("something odd");
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});
