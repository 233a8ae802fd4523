// Whose names a proxy page may list (#28): the index (`localhost`) and the unknown-name page
// list names, and a name is made of its owner's app and service, as secret as they are. The
// client connection's user is asked of the kernel (sock_diag, as the API does, never a header),
// and only for those pages: a request routed to a service costs no lookup.
import type { Row } from "../../core/model.ts";
import type { Owners } from "../../core/owners.ts";
import type { PeerReader } from "../../core/peercred.ts";
import type { Store } from "../../core/store.ts";

/** A client connection's two ends (Bun's sockets and node:net's both have them). */
export interface ClientEnds {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
}

/** The allocations a proxy client may see listed: its own user's, an admin's too. */
export type VisibleNames = (client: ClientEnds) => Row[];

export function ownNames(
  store: Store,
  owners: Owners,
  reader: PeerReader | undefined,
): VisibleNames {
  return (client) => {
    const uid = clientUid(client, owners, reader);
    if (uid === undefined) return [];
    return store.list({ owner: owners.key(owners.caller(uid)) });
  };
}

/**
 * The uid owning the client's end of this connection; undefined when the kernel cannot say.
 * Where it keeps no such table (macOS), TCP counts as the daemon's own user, as in the API.
 */
export function clientUid(
  client: ClientEnds,
  owners: Owners,
  reader: PeerReader | undefined,
): number | undefined {
  if (!reader?.tcpUid) return owners.daemonUid;
  const { remoteAddress, remotePort, localAddress, localPort } = client;
  if (!remoteAddress || !remotePort || !localAddress || !localPort) return undefined;
  return reader.tcpUid({
    address: remoteAddress,
    port: remotePort,
    serverAddress: localAddress,
    serverPort: localPort,
  });
}
