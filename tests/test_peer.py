"""Who owns a loopback connection: the kernel's sock_diag answer and the /proc fallback agree."""
import os
import socket
import unittest

from amc_server.http import peer


class PeerUid(unittest.TestCase):
    def connect(self, family=socket.AF_INET, host="127.0.0.1"):
        srv = socket.socket(family)
        self.addCleanup(srv.close)
        srv.bind((host, 0))
        srv.listen()
        client = socket.create_connection(srv.getsockname()[:2])
        self.addCleanup(client.close)
        conn, addr = srv.accept()
        self.addCleanup(conn.close)
        return addr, conn.getsockname()

    def test_both_ways_name_this_user_for_our_own_connection(self):
        if not os.path.exists("/proc/net/tcp"):
            self.skipTest("Linux only")
        client, server = self.connect()
        self.assertEqual(peer.diag_uid(client, server), os.getuid())
        self.assertEqual(peer.proc_uid(client, server[1]), os.getuid())
        self.assertEqual(peer.peer_uid(client, server), os.getuid())

    def test_ipv6_loopback(self):
        if not os.path.exists("/proc/net/tcp6") or not socket.has_ipv6:
            self.skipTest("no IPv6 here")
        try:
            client, server = self.connect(socket.AF_INET6, "::1")
        except OSError:
            self.skipTest("no ::1 here")
        self.assertEqual(peer.peer_uid(client, server), os.getuid())

    def test_a_socket_that_does_not_exist_is_unknown(self):
        self.assertIsNone(peer.diag_uid(("127.0.0.1", 1), ("127.0.0.1", 2)))
        self.assertIsNone(peer.proc_uid(("127.0.0.1", 1), 2))
        self.assertIsNone(peer.diag_uid(("not-an-ip", 1), ("127.0.0.1", 2)))


if __name__ == "__main__":
    unittest.main()
