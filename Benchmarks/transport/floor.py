"""The transport benchmark's floor: a socketmap server that does no work at all. One thread, epoll
(selectors), every complete request answered at once with the same constant OK netstring. What it reaches
is what the machine's loopback round trips and the client allow; no real server can do better.

    floor.py PORT
"""
import selectors
import socket
import sys

REPLY = b"OK secure match=mx1.d1.bench.example:mx2.d1.bench.example servername=hostname"
ANSWER = str(len(REPLY)).encode() + b":" + REPLY + b","


def main(port):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    buffers = {}
    while True:
        for key, _ in selector.select():
            if key.data is None:
                conn, _ = listener.accept()
                conn.setblocking(False)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                selector.register(conn, selectors.EVENT_READ, b"")
                buffers[conn] = b""
                continue
            conn = key.fileobj
            try:
                data = conn.recv(65536)
            except ConnectionError:
                data = b""
            if not data:
                selector.unregister(conn)
                buffers.pop(conn, None)
                conn.close()
                continue
            pending = buffers[conn] + data
            answers = b""
            while True:
                colon = pending.find(b":")
                if colon < 0:
                    break
                end = colon + 1 + int(pending[:colon]) + 1
                if len(pending) < end:
                    break
                pending = pending[end:]
                answers += ANSWER
            buffers[conn] = pending
            if answers:
                conn.sendall(answers)


if __name__ == "__main__":
    main(int(sys.argv[1]))
