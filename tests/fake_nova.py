"""A fake Nova API that records the external events the network service
sends it (``POST /v2.1/os-server-external-events``), for the functional
and integration tiers of the network service."""

import http.server
import json
import threading
import time


class FakeNova:
    """``POST /v2.1/os-server-external-events`` recorder, answering as Nova
    does (200, each event with ``code`` 200)."""

    def __init__(self):
        self.requests = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                recorder.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": body, "time": time.monotonic()})
                answer = json.dumps({"events": [dict(event, code=200,
                                                     status=event.get("status", "completed"))
                                                for event in body["events"]]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v2.1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

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
