#!/usr/bin/python3
"""A raw SOCKS4/4a/5 (+ tor's RESOLVE/RESOLVE_PTR) and HTTP CONNECT client
for the chive integration tests.  Stdlib only, our own code.

It sends exactly the bytes it is told to and reports exactly what came back,
so a test can check reply codes byte by byte.  Every socket operation is
bounded by a timeout.  Failures raise SocksError with a precise message:
which stage, how many bytes were expected and received, whether the proxy
closed the connection (EOF), reset it, or said nothing in time.

References: RFC 1928 (SOCKS5), RFC 1929 (username/password), the SOCKS4 and
SOCKS4a protocol notes, torspec socks-extensions.txt (RESOLVE 0xF0,
RESOLVE_PTR 0xF1), RFC 9110 §9.3.6 (CONNECT).
"""

import ipaddress
import socket
import time

SOCKS5_CMD_CONNECT = 0x01
SOCKS5_CMD_BIND = 0x02
SOCKS5_CMD_UDP = 0x03
SOCKS5_CMD_RESOLVE = 0xF0
SOCKS5_CMD_RESOLVE_PTR = 0xF1
ATYP_IPV4, ATYP_NAME, ATYP_IPV6 = 0x01, 0x03, 0x04

SOCKS5_REPLIES = {
    0x00: "succeeded",
    0x01: "general SOCKS server failure",
    0x02: "connection not allowed by ruleset",
    0x03: "network unreachable",
    0x04: "host unreachable",
    0x05: "connection refused",
    0x06: "TTL expired",
    0x07: "command not supported",
    0x08: "address type not supported",
    0xF0: "onion service descriptor can not be found",
    0xF1: "onion service descriptor is invalid",
    0xF2: "onion service introduction failed",
    0xF3: "onion service rendezvous failed",
    0xF4: "onion service missing client authorization",
    0xF5: "onion service wrong client authorization",
    0xF6: "onion service invalid address",
    0xF7: "onion service introduction timed out",
}
SOCKS4_REPLIES = {90: "granted", 91: "rejected or failed",
                  92: "no identd", 93: "identd mismatch"}

DEFAULT_TIMEOUT = 30.0


class SocksError(Exception):
    """A SOCKS exchange did not go as the caller expected.

    kind:  "eof" (closed before the full answer), "reset", "timeout",
           "reply" (a well-formed reply with an error code), "proto"
           (malformed answer), "connect" (could not reach the proxy)
    reply: the reply code for kind == "reply" (SOCKS5 REP, SOCKS4 CD, HTTP
           status), else None
    got:   the bytes received in the failing read
    """

    def __init__(self, kind, msg, reply=None, got=b""):
        super().__init__(msg)
        self.kind = kind
        self.reply = reply
        self.got = got


def rep_name(code):
    return "0x%02x (%s)" % (code, SOCKS5_REPLIES.get(code, "unassigned"))


def open_proxy(proxy, timeout=DEFAULT_TIMEOUT):
    """TCP connection to proxy (host, port)."""
    try:
        s = socket.create_connection(proxy, timeout=timeout)
    except OSError as e:
        raise SocksError("connect", "cannot connect to the proxy %s:%d: %s"
                         % (proxy[0], proxy[1], e))
    s.settimeout(timeout)
    return s


def recv_exact(sock, n, what):
    """Exactly n bytes, or SocksError saying what went wrong."""
    buf = b""
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except socket.timeout:
            raise SocksError("timeout", "%s: timed out after %d of %d bytes"
                             % (what, len(buf), n), got=buf)
        except ConnectionResetError:
            raise SocksError("reset", "%s: connection reset after %d of %d "
                             "bytes" % (what, len(buf), n), got=buf)
        except OSError as e:
            raise SocksError("reset", "%s: %s after %d of %d bytes"
                             % (what, e, len(buf), n), got=buf)
        if not chunk:
            raise SocksError("eof", "%s: proxy closed the connection after "
                             "%d of %d bytes (%s)" % (what, len(buf), n,
                                                      buf.hex() or "none"),
                             got=buf)
        buf += chunk
    return buf


def wait_closed(sock, timeout):
    """Wait up to timeout for the peer to close.  Returns (how, data, secs):
    how is "eof", "reset" or "open" (still open at the deadline); data is
    whatever arrived meanwhile."""
    t0 = time.monotonic()
    data = b""
    end = t0 + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return "open", data, time.monotonic() - t0
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return "open", data, time.monotonic() - t0
        except OSError:
            return "reset", data, time.monotonic() - t0
        if not chunk:
            return "eof", data, time.monotonic() - t0
        data += chunk


# --------------------------------------------------------------------------
# SOCKS5


def socks5_greeting(sock, methods=(0x00,)):
    """Send a method-selection message; return the method chosen."""
    sock.sendall(bytes([5, len(methods)]) + bytes(methods))
    r = recv_exact(sock, 2, "SOCKS5 method selection reply")
    if r[0] != 5:
        raise SocksError("proto", "method reply version 0x%02x, expected "
                         "0x05 (%s)" % (r[0], r.hex()), got=r)
    return r[1]


def socks5_userpass(sock, user, password):
    """RFC 1929 sub-negotiation; returns the status byte (0 = success)."""
    if isinstance(user, str):
        user = user.encode()
    if isinstance(password, str):
        password = password.encode()
    sock.sendall(bytes([1, len(user)]) + user + bytes([len(password)])
                 + password)
    r = recv_exact(sock, 2, "RFC 1929 auth reply")
    if r[0] != 1:
        raise SocksError("proto", "auth reply version 0x%02x, expected 0x01"
                         % r[0], got=r)
    return r[1]


def encode_addr(host):
    """ATYP + address bytes for an IPv4/IPv6 literal or a hostname."""
    if isinstance(host, bytes):
        return bytes([ATYP_NAME, len(host)]) + host
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        b = host.encode()
        if len(b) > 255:
            raise ValueError("hostname longer than 255 bytes cannot be "
                             "framed in SOCKS5")
        return bytes([ATYP_NAME, len(b)]) + b
    return bytes([ATYP_IPV4 if ip.version == 4 else ATYP_IPV6]) + ip.packed


def socks5_read_reply(sock, what="SOCKS5 reply"):
    """Read a full SOCKS5 reply.  Returns (rep, atyp, addr, port); addr is
    a str for IPv4/IPv6, bytes for a hostname, None for ATYP 0 (C tor's
    failed RESOLVE reply: 0x00 and 4 zero bytes)."""
    h = recv_exact(sock, 4, what)
    if h[0] != 5:
        raise SocksError("proto", "%s: version 0x%02x, expected 0x05 (%s)"
                         % (what, h[0], h.hex()), got=h)
    rep, atyp = h[1], h[3]
    if atyp == ATYP_IPV4:
        a = recv_exact(sock, 4, what + " address")
        addr = str(ipaddress.IPv4Address(a))
    elif atyp == ATYP_IPV6:
        a = recv_exact(sock, 16, what + " address")
        addr = str(ipaddress.IPv6Address(a))
    elif atyp == ATYP_NAME:
        n = recv_exact(sock, 1, what + " name length")[0]
        addr = recv_exact(sock, n, what + " name")
    elif atyp == 0x00 and rep != 0:
        # C tor answers a failed RESOLVE with ATYP 0 and 6 zero bytes
        recv_exact(sock, 4, what + " address")
        addr = None
    else:
        raise SocksError("proto", "%s: unknown ATYP 0x%02x (%s)"
                         % (what, atyp, h.hex()), got=h)
    port = int.from_bytes(recv_exact(sock, 2, what + " port"), "big")
    return rep, atyp, addr, port


def socks5_request(sock, cmd, host, port):
    """Send a request; return the parsed reply (see socks5_read_reply)."""
    sock.sendall(bytes([5, cmd, 0]) + encode_addr(host)
                 + port.to_bytes(2, "big"))
    return socks5_read_reply(sock)


def socks5_open(proxy, cmd, host, port, auth=None, timeout=DEFAULT_TIMEOUT):
    """Connect to the proxy, negotiate (no auth, or username/password when
    auth=(user, password)) and send one request.  Returns (sock, reply)
    with the socket still open whatever the reply code."""
    s = open_proxy(proxy, timeout)
    try:
        if auth is None:
            m = socks5_greeting(s, (0x00,))
            if m != 0x00:
                raise SocksError("proto", "proxy chose method 0x%02x, we "
                                 "offered only no-auth (0x00)" % m)
        else:
            m = socks5_greeting(s, (0x02,))
            if m != 0x02:
                raise SocksError("proto", "proxy chose method 0x%02x, we "
                                 "offered only username/password (0x02)"
                                 % m)
            st = socks5_userpass(s, auth[0], auth[1])
            if st != 0:
                raise SocksError("reply", "username/password rejected with "
                                 "status 0x%02x" % st, reply=st)
        reply = socks5_request(s, cmd, host, port)
        return s, reply
    except BaseException:
        s.close()
        raise


def socks5_connect(proxy, host, port, auth=None, timeout=DEFAULT_TIMEOUT):
    """A CONNECT that must succeed; returns the open socket."""
    s, (rep, _, _, _) = socks5_open(proxy, SOCKS5_CMD_CONNECT, host, port,
                                    auth, timeout)
    if rep != 0:
        s.close()
        raise SocksError("reply", "SOCKS5 CONNECT %s:%d refused: %s"
                         % (host, port, rep_name(rep)), reply=rep)
    return s


def socks5_resolve(proxy, name, ptr=False, auth=None,
                   timeout=DEFAULT_TIMEOUT):
    """Tor's RESOLVE (name -> address) or RESOLVE_PTR (address -> name).
    Returns (rep, atyp, addr); the connection is closed."""
    cmd = SOCKS5_CMD_RESOLVE_PTR if ptr else SOCKS5_CMD_RESOLVE
    s, (rep, atyp, addr, _) = socks5_open(proxy, cmd, name, 0, auth, timeout)
    s.close()
    return rep, atyp, addr


# --------------------------------------------------------------------------
# SOCKS4 / 4a


def socks4_request(proxy, host, port, userid=b"", timeout=DEFAULT_TIMEOUT):
    """SOCKS4 CONNECT (host an IPv4 literal) or SOCKS4a (anything else, or
    bytes).  Returns (sock, cd, port, ip) with the socket open."""
    if isinstance(userid, str):
        userid = userid.encode()
    name = None
    try:
        ip = ipaddress.IPv4Address(host).packed
    except (ValueError, ipaddress.AddressValueError):
        ip = b"\x00\x00\x00\x01"
        name = host if isinstance(host, bytes) else host.encode()
    msg = bytes([4, 1]) + port.to_bytes(2, "big") + ip + userid + b"\x00"
    if name is not None:
        msg += name + b"\x00"
    s = open_proxy(proxy, timeout)
    try:
        s.sendall(msg)
        r = recv_exact(s, 8, "SOCKS4 reply")
    except BaseException:
        s.close()
        raise
    if r[0] != 0:
        s.close()
        raise SocksError("proto", "SOCKS4 reply VN 0x%02x, expected 0x00 "
                         "(%s)" % (r[0], r.hex()), got=r)
    return s, r[1], int.from_bytes(r[2:4], "big"), \
        str(ipaddress.IPv4Address(r[4:8]))


# --------------------------------------------------------------------------
# HTTP over an established stream, and HTTP CONNECT


def http_read_head(sock, what="HTTP response"):
    """Read up to the blank line; returns (status, reason, headers dict
    with lowercase names, leftover body bytes)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            raise SocksError("timeout", "%s: timed out in the head after %d "
                             "bytes" % (what, len(buf)), got=buf)
        except OSError as e:
            raise SocksError("reset", "%s: %s in the head after %d bytes"
                             % (what, e, len(buf)), got=buf)
        if not chunk:
            raise SocksError("eof", "%s: closed in the head after %d bytes: "
                             "%r" % (what, len(buf), buf[:200]), got=buf)
        buf += chunk
        if len(buf) > 65536:
            raise SocksError("proto", "%s: head longer than 64 KiB" % what)
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or \
            not parts[1].isdigit():
        raise SocksError("proto", "%s: bad status line %r" % (what, lines[0]),
                         got=buf)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers, rest


def http_get(sock, host, path, sink=None):
    """GET path over an open stream (HTTP/1.0-style: one request, the
    server closes).  Returns (status, headers, body); with sink(bytes)
    given, the body is passed to it chunk by chunk and body is its
    length."""
    sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                  % (path, host)).encode())
    status, _, headers, rest = http_read_head(sock)
    want = int(headers["content-length"]) if "content-length" in headers \
        else None
    got = 0
    body = []

    def take(b):
        nonlocal got
        got += len(b)
        if sink:
            sink(b)
        else:
            body.append(b)
    if rest:
        take(rest)
    while want is None or got < want:
        try:
            chunk = sock.recv(1 << 18)
        except socket.timeout:
            raise SocksError("timeout", "GET %s: body timed out after %d of "
                             "%s bytes" % (path, got, want))
        except OSError as e:
            raise SocksError("reset", "GET %s: %s after %d of %s body bytes"
                             % (path, e, got, want))
        if not chunk:
            if want is None:
                break
            raise SocksError("eof", "GET %s: stream closed after %d of %d "
                             "body bytes" % (path, got, want))
        take(chunk)
    return status, headers, (got if sink else b"".join(body))


def http_connect(proxy, host, port, headers=(), timeout=DEFAULT_TIMEOUT):
    """HTTP CONNECT host:port through an HTTP tunnel proxy.  Returns (sock,
    status, reason, headers); the socket is open (a tunnel when 200)."""
    s = open_proxy(proxy, timeout)
    try:
        req = "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n" % (host, port, host,
                                                            port)
        for h in headers:
            req += h + "\r\n"
        s.sendall(req.encode() + b"\r\n")
        status, reason, hdrs, rest = http_read_head(s, "CONNECT response")
    except BaseException:
        s.close()
        raise
    if rest:
        # bytes after the head belong to the tunnel; keep them
        s = _Prefixed(s, rest)
    return s, status, reason, hdrs


class _Prefixed:
    """A socket with some already-received bytes put back in front."""

    def __init__(self, sock, data):
        self._s, self._d = sock, data

    def recv(self, n):
        if self._d:
            d, self._d = self._d[:n], self._d[n:]
            return d
        return self._s.recv(n)

    def __getattr__(self, name):
        return getattr(self._s, name)
