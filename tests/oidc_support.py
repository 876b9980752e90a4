"""A real OpenID provider for the tests: tests/oidc/provider.js (the certified `oidc-provider` package from
npm, configured like ID-porten) under Node.js on a free loopback port, one per xdist worker.

./run-tests installs Node.js and runs `npm ci --prefix tests/oidc`; a missing `node` or missing packages fail
the tests that need the provider, they never skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from joserfc.jwk import RSAKey

HERE = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "privacy-service"
CLIENT_SECRET = "a-test-secret-that-is-long-enough-for-hs256-0123456789"
JWT_CLIENT_ID = "privacy-service-jwt"  # authenticates with private_key_jwt, as HelseID requires


@dataclass
class OpenIdProvider:
    """The running provider: its issuer and client, and the test-only tamper control."""

    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    jwt_key_file: str = ""  # the private key of the private_key_jwt client (PEM)

    def app_config_private_key_jwt(self, **overrides: Any) -> dict[str, Any]:
        """Return the app settings of the client that authenticates with a signed JWT instead of a secret."""
        settings = {
            "PRIVACY_OIDC_CLIENT_ID": JWT_CLIENT_ID,
            "PRIVACY_OIDC_CLIENT_SECRET": None,
            "PRIVACY_OIDC_CLIENT_KEY_FILE": self.jwt_key_file,
        }
        return self.app_config(**{**settings, **overrides})

    def app_config(self, **overrides: Any) -> dict[str, Any]:
        """Return the app settings that make it log subjects in through this provider."""
        return {
            "PRIVACY_OIDC_ISSUER": self.issuer,
            "PRIVACY_OIDC_CLIENT_ID": self.client_id,
            "PRIVACY_OIDC_CLIENT_SECRET": self.client_secret,
            **overrides,
        }

    def tamper(self, **changes: Any) -> None:
        """Make the next token response carry an ID token re-made with these changes (see provider.js)."""
        requests.post(f"{self.issuer}/__test/tamper", json=changes, timeout=5).raise_for_status()

    def log_in(self, authorization_url: str, *, pid: str, acr: str = "idporten-loa-substantial") -> str:
        """Log in at the provider as a person, following redirects by hand; return the app's callback URL."""
        browser = requests.Session()
        url = authorization_url
        for _ in range(10):
            response = browser.get(url, allow_redirects=False, timeout=5)
            if response.status_code == 200 and "<form" in response.text:
                action = unescape(re.search(r'action="([^"]+)"', response.text).group(1))  # type: ignore[union-attr]
                response = browser.post(
                    urljoin(url, action), data={"pid": pid, "acr": acr}, allow_redirects=False, timeout=5
                )
            assert response.status_code in (302, 303), (response.status_code, response.text[:500])
            url = urljoin(url, response.headers["Location"])
            if "/me/callback" in url:
                return url
        raise AssertionError("the provider never sent the browser back")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(issuer: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the test provider exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the test provider did not answer discovery in time")


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIdProvider]:
    """Start the test OpenID provider once per worker and stop it at the end."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is missing: ./run-tests installs it (apt-get install nodejs npm)")
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(
            "the test provider's packages are missing: run `npm ci --prefix tests/oidc` (./run-tests does)"
        )
    port = _free_port()
    folder = tmp_path_factory.mktemp("oidc-provider")
    jwt_key = RSAKey.generate_key(2048, private=True, parameters={"kid": "client-key-1"})
    key_file = folder / "client-key.pem"
    key_file.write_bytes(jwt_key.as_pem(private=True))
    env = {
        **os.environ,
        "PORT": str(port),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "JWT_CLIENT_ID": JWT_CLIENT_ID,
        "JWT_CLIENT_JWKS": json.dumps({"keys": [jwt_key.as_dict(private=False)]}),
    }
    env.pop("NODE_OPTIONS", None)
    log = folder / "provider.log"
    with log.open("w") as out:  # a file, not a pipe: a full pipe would stall the provider
        process = subprocess.Popen(
            [node, str(HERE / "provider.js")], cwd=HERE, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    issuer = f"http://127.0.0.1:{port}"
    try:
        _wait_for(issuer, process, log)
        yield OpenIdProvider(issuer=issuer, jwt_key_file=str(key_file))
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
