// What the two netlink sock_diag readers share: the listener table (sockdiag.ts) and the owner
// of one client's socket (peercred.ts). The kernel's numbers, and the request both send.

export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const NETLINK_SOCK_DIAG = 4;
export const NLM_F_REQUEST = 0x1;
export const NLMSG_ERROR = 2;
export const MSG_DONTWAIT = 0x40;
/** nlmsghdr (16 bytes) + inet_diag_req_v2 (56 bytes). */
export const REQUEST_BYTES = 72;

/**
 * An inet_diag_req_v2 for TCP sockets in `states` (a bit per TCP state), with `flags`
 * (NLM_F_REQUEST, plus NLM_F_DUMP for a whole table); the caller sets family, seq and address.
 */
export function tcpDiagRequest(flags: number, states: number): DataView {
  const r = new DataView(new ArrayBuffer(REQUEST_BYTES));
  r.setUint32(0, REQUEST_BYTES, true); // nlmsg_len
  r.setUint16(4, SOCK_DIAG_BY_FAMILY, true); // nlmsg_type
  r.setUint16(6, flags, true); // nlmsg_flags
  r.setUint8(17, IPPROTO_TCP); // sdiag_protocol
  r.setUint32(20, states, true); // idiag_states
  return r;
}

// --- internal ---

const SOCK_DIAG_BY_FAMILY = 20;
const IPPROTO_TCP = 6;
