// Identity at the edge (#28): each keep-alive connection is asked of the kernel once, and a
// remembered answer is used only while our own end of that connection is still the socket on
// its fd. A client port seen once is not remembered. Driven with a scripted kernel.
import { describe, expect, test } from "bun:test";
import type { PeerReader, TcpPeer } from "../../src/core/peercred.ts";
import { Connections } from "../../src/server/caller.ts";

const CLIENT: TcpPeer = {
  address: "127.0.0.1",
  port: 40000,
  serverAddress: "127.0.0.1",
  serverPort: 51234,
};

/** The kernel as a table: the client's socket (uid) and our end (inode 7) on fd 12. */
function kernel() {
  const k = {
    clientUid: 1000,
    ourInode: 7,
    /** fd → the inode open on it now. */
    fds: new Map([[12, 7]]),
    lookups: 0,
  };
  const reader: PeerReader = {
    unixPeer: () => undefined,
    tcpSocket(p) {
      k.lookups++;
      if (p.port === CLIENT.port) return { uid: k.clientUid, inode: 900 };
      if (p.port === CLIENT.serverPort) return { uid: 0, inode: k.ourInode };
      return undefined;
    },
    fdInode: (fd) => k.fds.get(fd),
  };
  const fds = () => new Map([...k.fds].map(([fd, ino]) => [ino, fd]));
  return { k, connections: new Connections(reader, fds) };
}

describe("Connections", () => {
  test("a one-shot client is looked up each time; a keep-alive one once, then by its fd", () => {
    const { k, connections } = kernel();
    expect(connections.uid(CLIENT)).toBe(1000);
    expect(k.lookups).toBe(1);
    expect(connections.uid(CLIENT)).toBe(1000); // second request: remembered (two lookups)
    expect(k.lookups).toBe(3);
    for (let i = 0; i < 5; i++) expect(connections.uid(CLIENT)).toBe(1000);
    expect(k.lookups).toBe(3);
  });

  test("once our end is closed and its fd holds another socket, the same client port is asked again", () => {
    const { k, connections } = kernel();
    connections.uid(CLIENT);
    connections.uid(CLIENT);
    // The connection ended; another user's client got the same port, Bun the same fd number.
    k.fds.set(12, 8);
    k.ourInode = 8;
    k.clientUid = 1001;
    expect(connections.uid(CLIENT)).toBe(1001);
  });

  test("a client the kernel no longer knows is nobody, whatever was remembered", () => {
    const { k, connections } = kernel();
    connections.uid(CLIENT);
    connections.uid(CLIENT);
    k.fds.delete(12);
    const gone: PeerReader = { unixPeer: () => undefined, tcpSocket: () => undefined };
    expect(new Connections(gone).uid(CLIENT)).toBeUndefined();
    k.clientUid = 5;
    expect(connections.uid(CLIENT)).toBe(5);
  });
});
