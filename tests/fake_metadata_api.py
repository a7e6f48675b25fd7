"""A stand-in for Nova's metadata API (port 8775) on 127.0.0.1, for the
network service's tests of its metadata agent: it records each request's
path and headers and answers with a status and body the test chooses.
Nova's real metadata API is the other service's; these tests only check
what the network side sends it and relays from it."""

import http.server
import json
import threading


class FakeMetadataApi:
    def __init__(self, status=200, body=None, content_type="application/json"):
        self.requests = []
        self.status = status
        self.body = body if body is not None else json.dumps({"uuid": "from-fake-nova"})
        self.content_type = content_type
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                recorder.requests.append({"method": "GET", "path": self.path,
                                          "headers": dict(self.headers)})
                answer = recorder.body.encode()
                self.send_response(recorder.status)
                self.send_header("Content-Type", recorder.content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
