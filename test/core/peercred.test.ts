// Who is at the other end, from the kernel (#28), on real sockets of this machine: the owner of
// a live TCP client's socket; nobody for one that has closed (a TIME_WAIT socket reports uid 0,
// which must never be taken for root) or that never existed; SO_PEERCRED on a Unix socket.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPeerReader } from "../../src/core/peercred.ts";

const reader = openPeerReader();
const open: (Server | Socket)[] = [];
afterEach(() => {
  for (const s of open.splice(0)) "destroy" in s ? s.destroy() : s.close();
});

describe.skipIf(process.platform !== "linux" || !reader)("peercred on Linux", () => {
  test("a live loopback client's socket belongs to this process's uid", async () => {
    const { client, server } = await connected();
    const peer = {
      address: "127.0.0.1",
      port: client.localPort as number,
      serverAddress: "127.0.0.1",
      serverPort: server.port,
    };
    expect(reader?.tcpUid?.(peer)).toBe(process.getuid?.());
  });

  test("a client that has closed (TIME_WAIT, uid 0 in the kernel's answer) is nobody", async () => {
    const { client, server, accepted } = await connected();
    const peer = {
      address: "127.0.0.1",
      port: client.localPort as number,
      serverAddress: "127.0.0.1",
      serverPort: server.port,
    };
    client.end();
    await new Promise((r) => accepted.once("end", r));
    accepted.end();
    await new Promise((r) => client.once("close", r));
    expect(reader?.tcpUid?.(peer)).toBeUndefined();
  });

  test("a 4-tuple nobody has, or an address that is not one, is nobody", () => {
    const peer = { address: "127.0.0.1", port: 1, serverAddress: "127.0.0.1", serverPort: 2 };
    expect(reader?.tcpUid?.(peer)).toBeUndefined();
    expect(reader?.tcpUid?.({ ...peer, address: "999.0.0.1" })).toBeUndefined();
  });

  test("SO_PEERCRED of a Unix socket: this process and its uid", async () => {
    const dir = mkdtempSync(join(tmpdir(), "port-server-peercred-"));
    const path = join(dir, "s.sock");
    let fd = -1;
    const listener = Bun.listen({
      unix: path,
      socket: {
        open(s) {
          fd = (s as unknown as { fd: number }).fd;
        },
        data() {},
      },
    });
    try {
      const c = await Bun.connect({ unix: path, socket: { data() {} } });
      for (let i = 0; i < 100 && fd < 0; i++) await Bun.sleep(10);
      expect(reader?.unixPeer(fd)).toEqual({ uid: process.getuid?.() as number, pid: process.pid });
      c.end();
    } finally {
      listener.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// --- internal ---

async function connected(): Promise<{
  client: Socket;
  accepted: Socket;
  server: { port: number };
}> {
  let accepted: Socket | undefined;
  const server = createServer((s) => {
    accepted = s;
    open.push(s);
  });
  open.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const client = createConnection({ host: "127.0.0.1", port });
  open.push(client);
  await new Promise((r) => client.once("connect", r));
  for (let i = 0; i < 100 && !accepted; i++) await Bun.sleep(5);
  return { client, accepted: accepted as Socket, server: { port } };
}
