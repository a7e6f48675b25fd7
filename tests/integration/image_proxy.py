"""A small HTTP proxy in front of the image service, for the integration
tests: it can slow image downloads down (two boots surely overlap, a
compute can be killed in the middle of one) or cut the next one half-way."""

import http.client
import http.server
import threading
import time


class ImageProxy:
    """Forwards HTTP requests to the image service; when told to, slows
    image downloads down or cuts the next one after half its bytes."""

    def __init__(self):
        self.upstream_port = None
        self.seconds_per_download = 0.0
        self.cuts = 0
        self._cut_next = threading.Event()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ForwardingHandler)
        self.server.daemon_threads = True
        self.server.proxy = self
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def cut_next_download(self):
        self._cut_next.set()

    def take_cut(self):
        if self._cut_next.is_set():
            self._cut_next.clear()
            self.cuts += 1
            return True
        return False

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class _ForwardingHandler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so cutting a response short is
    # simply returning early: the server then closes the connection.
    CHUNK = 64 * 1024
    HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "server", "date"}

    def _forward(self):
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in self.HOP_BY_HOP | {"host", "content-length"}}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        download = self.command == "GET" and self.path.endswith("/file")
        total = int(response.getheader("Content-Length") or 0)
        limit = total // 2 if download and proxy.take_cut() else None
        self.send_response(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in self.HOP_BY_HOP:
                self.send_header(name, value)
        self.end_headers()
        pause = proxy.seconds_per_download * self.CHUNK / total if download and total else 0
        sent = 0
        while chunk := response.read(self.CHUNK):
            if limit is not None and sent + len(chunk) >= limit:
                self.wfile.write(chunk[:limit - sent])
                break
            self.wfile.write(chunk)
            sent += len(chunk)
            time.sleep(pause)
        self.wfile.flush()
        upstream.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    def log_message(self, *args):
        pass
