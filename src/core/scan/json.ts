// Where a JSON text goes wrong. Bun's JSON.parse names no position, and a user fixing a broken
// package.json wants a line and column.

export interface JsonErrorPosition {
  line: number;
  column: number;
  message: string;
}

export function locate(text: string): JsonErrorPosition {
  const offset = errorOffset(text);
  const before = text.slice(0, offset).split("\n");
  const found =
    offset < text.length ? `unexpected ${JSON.stringify(text[offset])}` : "unexpected end of input";
  return {
    line: before.length,
    column: (before[before.length - 1]?.length ?? 0) + 1,
    message: `invalid JSON: ${found}`,
  };
}

// --- internal ---

/** A small recursive-descent check; returns the offset of the first character that is wrong. */
function errorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const expect = (s: string) => {
    if (text.startsWith(s, i)) i += s.length;
    else fail();
  };
  const string = () => {
    expect('"');
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\n") fail();
      i += text[i] === "\\" ? 2 : 1;
    }
    expect('"');
  };
  const member = () => {
    string();
    ws();
    expect(":");
    value();
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === "{") container("}", member);
    else if (ch === "[") container("]", value);
    else if (ch === '"') string();
    else {
      const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
      if (!m) fail();
      i += (m as RegExpExecArray)[0].length;
    }
  };
  const container = (close: string, item: () => void) => {
    i++;
    ws();
    if (text[i] === close) return void i++;
    for (;;) {
      ws();
      item();
      ws();
      if (text[i] === ",") i++;
      else return expect(close);
    }
  };
  try {
    value();
    ws();
    return Math.min(i, text.length);
  } catch (at) {
    return Math.min(at as number, text.length);
  }
}
