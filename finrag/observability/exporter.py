"""/metrics on its own port (FINRAG_SECURITY_METRICS_PORT), apart from the public API, optionally
behind a bearer token (FINRAG_SECURITY_METRICS_TOKEN) — the same check the API's /metrics uses."""

from __future__ import annotations

import hmac
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)


def token_ok(authorization: str | None, token: str | None) -> bool:
    """No token configured: open. Else 'Bearer <token>', compared in constant time."""
    if not token:
        return True
    scheme, _, credential = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(credential.strip().encode(), token.encode())


class MetricsExporter:
    """A small threaded HTTP server answering GET /metrics from one registry."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int, token: str | None = None) -> None:
        self.registry = registry
        self.token = token
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/metrics":
                    self._reply(404, b"not found\n", "text/plain")
                elif not token_ok(self.headers.get("Authorization"), exporter.token):
                    self._reply(401, b"metrics need 'Authorization: Bearer <token>'\n", "text/plain")
                else:
                    self._reply(200, generate_latest(exporter.registry), CONTENT_TYPE_LATEST)

            def _reply(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="finrag-metrics", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> MetricsExporter:
        self._thread.start()
        log.info("metrics exporter listening", extra={"port": self.port})
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
