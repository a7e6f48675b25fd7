"""Fakes of Nova's two APIs for the network service's functional and
integration tiers: the compute API's external events (``POST
/v2.1/os-server-external-events``, recorded) and the metadata API (what
the metadata agent sends it, recorded; the answer chosen by the test)."""

import http.server
import json
import threading
import time


class _FakeService:
    """A threaded HTTP server on a free port of 127.0.0.1 whose ``Handler``
    (a BaseHTTPRequestHandler class made by the subclass) can reach the
    fake as ``self.server.fake``."""

    def __init__(self, handler):
        self.requests = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.fake = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class FakeNova(_FakeService):
    """``POST /v2.1/os-server-external-events`` recorder, answering as Nova
    does (200, each event with ``code`` 200)."""

    class Handler(_Handler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.server.fake.requests.append({"path": self.path, "headers": dict(self.headers),
                                              "body": body, "time": time.monotonic()})
            answer = json.dumps({"events": [dict(event, code=200,
                                                 status=event.get("status", "completed"))
                                            for event in body["events"]]}).encode()
            self.answer(200, "application/json", answer)

    def __init__(self):
        super().__init__(self.Handler)
        self.url = f"http://127.0.0.1:{self.port}/v2.1"

    def events(self):
        return [event for request in self.requests for event in request["body"]["events"]]

    def wait_for(self, name, tag, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if event["name"] == name and event["tag"] == tag:
                    return event
            time.sleep(0.01)
        raise AssertionError(f"no {name} for {tag}; events: {self.events()}")


class FakeMetadataApi(_FakeService):
    """A stand-in for Nova's metadata API (port 8775), for the network
    service's tests of its metadata agent: it records each request's path
    and headers and answers with a status and body the test chooses. Nova's
    real metadata API is the other service's; these tests only check what
    the network side sends it and relays from it."""

    class Handler(_Handler):
        def do_GET(self):
            fake = self.server.fake
            fake.requests.append({"method": "GET", "path": self.path,
                                  "headers": dict(self.headers)})
            self.answer(fake.status, fake.content_type, fake.body.encode())

    def __init__(self, status=200, body=None, content_type="application/json"):
        super().__init__(self.Handler)
        self.status = status
        self.body = body if body is not None else json.dumps({"uuid": "from-fake-nova"})
        self.content_type = content_type
