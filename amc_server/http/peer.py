"""Which local user owns the other end of a loopback TCP connection (Linux).

A page that can type into terminals must not be reachable by another user of the same machine,
and loopback TCP carries no credentials. The kernel knows each socket's owner: asked for exactly
one socket through sock_diag (a netlink socket, stdlib `socket`), the answer costs microseconds
whatever the machine runs; reading `/proc/net/tcp` lists every socket of the machine (milliseconds
per connection, more on a busy box), so it is only the fallback where netlink is refused.
Everything returns None where it cannot tell (not Linux): the caller then lets the request in.
"""
import socket
import struct
from typing import Optional, Tuple

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 1
NLMSG_ERROR = 2
INET_DIAG_NOCOOKIE = 0xFFFFFFFF
_HEADER = struct.Struct("=IHHII")                 # struct nlmsghdr
_REQUEST = struct.Struct("=BBBBI")                # inet_diag_req_v2 up to its sockid
_SOCKID = struct.Struct(">HH16s16s")              # sport, dport, src, dst (network order)
_SOCKID_TAIL = struct.Struct("=III")              # if, cookie[2]
_UID_OFFSET = 4 + _SOCKID.size + _SOCKID_TAIL.size + 12   # inet_diag_msg: ... rqueue wqueue uid


def _addr(family: int, host: str) -> bytes:
    packed = socket.inet_pton(family, host)
    return packed + b"\0" * (16 - len(packed))


def diag_uid(local: Tuple, remote: Tuple) -> Optional[int]:
    """Return the uid owning the TCP socket whose address is `local` and peer `remote`."""
    host = str(local[0])
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        body = _REQUEST.pack(family, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF) + \
            _SOCKID.pack(local[1], remote[1], _addr(family, host),
                         _addr(family, str(remote[0]))) + \
            _SOCKID_TAIL.pack(0, INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE)
        with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as nl:
            nl.settimeout(1.0)
            nl.sendto(_HEADER.pack(_HEADER.size + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST,
                                   1, 0) + body, (0, 0))
            reply = nl.recv(65536)
    except (OSError, ValueError, AttributeError):
        return None
    if len(reply) < _HEADER.size:
        return None
    _, kind, _, _, _ = _HEADER.unpack_from(reply)
    if kind != SOCK_DIAG_BY_FAMILY or len(reply) < _HEADER.size + _UID_OFFSET + 4:
        return None  # NLMSG_ERROR: no such socket (gone already), or not allowed
    return struct.unpack_from("=I", reply, _HEADER.size + _UID_OFFSET)[0]


def proc_uid(client: Tuple, server_port: int) -> Optional[int]:
    """Return the uid owning the client end, from /proc/net/tcp{,6} (the fallback)."""
    client_port = client[1] if len(client) > 1 else -1
    if not isinstance(client_port, int) or client_port < 0:
        return None
    # Ports are 4 upper-case hex digits in the table: compare text, parse only the match.
    local_end, remote_end = ":%04X" % client_port, ":%04X" % server_port
    v6 = ":" in str(client[0])
    for table in ("/proc/net/tcp6", "/proc/net/tcp") if v6 else ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, "rb") as f:
                data = f.read().decode("ascii", "replace")
        except OSError:
            continue
        start = data.find(local_end + " ")
        while start >= 0:
            line_start = data.rfind("\n", 0, start) + 1
            line_end = data.find("\n", start)
            fields = data[line_start:line_end if line_end >= 0 else None].split()
            if len(fields) >= 8 and fields[1].endswith(local_end) and \
                    fields[2].endswith(remote_end):
                try:
                    return int(fields[7])
                except ValueError:
                    return None
            start = data.find(local_end + " ", start + 1)
    return None


def peer_uid(client: Tuple, server: Tuple) -> Optional[int]:
    """Return the uid owning the client end of a TCP connection to `server` (Linux), else None."""
    uid = diag_uid(client, server)
    return uid if uid is not None else proc_uid(client, server[1])
