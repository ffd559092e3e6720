"""Credentials and the CDSE OAuth2 token flow.

Credentials come from the environment or ``~/.netrc`` and nowhere else; they are never
printed, logged, or written into outputs (the :class:`Secret` wrapper's ``repr`` is masked).

CDSE (Copernicus Data Space Ecosystem) uses Keycloak: a password grant with the public client
``cdse-public`` gives an access token valid 600 s and a refresh token; we refresh 60 s before
expiry and fall back to the password grant when the refresh token is refused.
"""

from __future__ import annotations

import logging
import netrc
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from eo_drr.catalog.net import in_words
from eo_drr.errors import CredentialsError
from eo_drr.i18n import gettext as _

log = logging.getLogger(__name__)

CDSE_TOKEN_URL = (
    "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token"
)
CDSE_CLIENT_ID = "cdse-public"
#: refresh this many seconds before the token expires
REFRESH_MARGIN_S = 60.0


class Secret(str):
    """A string that never shows itself in ``repr``/logs/tracebacks."""

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: Secret

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='***')"


def find_credentials(host: str, env_prefix: str) -> Credentials:
    """Username/password for ``host`` from ``{env_prefix}_USERNAME`` / ``{env_prefix}_PASSWORD``,
    else from ``~/.netrc`` (``NETRC`` overrides the path). Raises :class:`CredentialsError`
    saying where it looked (never what it found)."""
    user = os.environ.get(f"{env_prefix}_USERNAME")
    pwd = os.environ.get(f"{env_prefix}_PASSWORD")
    if user and pwd:
        return Credentials(user, Secret(pwd))
    path = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if os.name == "posix" and mode & 0o077:  # as openEO and ssh do: a password file is private
            raise CredentialsError(
                _(
                    "{path} is readable by other users (mode {mode:o}); its passwords are "
                    "not used: chmod 600 {path}"
                ).format(path=path, mode=mode)
            )
        try:
            auth = netrc.netrc(str(path)).authenticators(host)
        except (netrc.NetrcParseError, OSError) as exc:
            raise CredentialsError(
                _("cannot parse {path} (line {line})").format(
                    path=path, line=getattr(exc, "lineno", "?")
                )
            ) from None
        if auth and auth[0] and auth[2]:
            return Credentials(auth[0], Secret(auth[2]))
    raise CredentialsError(
        _(
            "no credentials for {host}: set {env_prefix}_USERNAME and {env_prefix}_PASSWORD, "
            "or add 'machine {host} login ... password ...' to {path}"
        ).format(host=host, env_prefix=env_prefix, path=path)
    )


class TokenAuth(requests.auth.AuthBase):
    """Bearer-token auth for requests, with the OAuth2 password and refresh-token grants.

    Thread-safe: many download threads share one token and one refresh.
    """

    def __init__(
        self,
        credentials: Credentials,
        token_url: str = CDSE_TOKEN_URL,
        client_id: str = CDSE_CLIENT_ID,
        session: requests.Session | None = None,
        clock=time.monotonic,
    ):
        self._cred = credentials
        self.token_url = token_url
        self.client_id = client_id
        self._session = session or requests.Session()
        self._clock = clock
        self._lock = threading.Lock()
        self._access: Secret | None = None
        self._refresh: Secret | None = None
        self._expires_at = 0.0
        self.refreshes = 0  # how many times a token was obtained (for tests and logs)

    def __repr__(self) -> str:
        return f"TokenAuth(token_url={self.token_url!r}, user={self._cred.username!r})"

    def _grant(self, data: dict) -> dict:
        try:
            r = self._session.post(self.token_url, data=data, timeout=30)
        except requests.RequestException as exc:
            raise CredentialsError(
                _("cannot reach the token service at {token_url}: {why}").format(
                    token_url=self.token_url, why=in_words(exc, self.token_url)
                )
            ) from None
        if r.status_code in (400, 401):
            return {}
        if r.status_code != 200:
            raise CredentialsError(
                _("token service at {token_url} answered HTTP {status_code}").format(
                    token_url=self.token_url, status_code=r.status_code
                )
            )
        return r.json()

    def _obtain(self) -> None:
        body = {}
        if self._refresh is not None:
            body = self._grant(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": str(self._refresh),
                    "client_id": self.client_id,
                }
            )
        if not body:
            body = self._grant(
                {
                    "grant_type": "password",
                    "username": self._cred.username,
                    "password": str(self._cred.password),
                    "client_id": self.client_id,
                }
            )
        if not body or "access_token" not in body:
            raise CredentialsError(
                _(
                    "the token service at {token_url} refused the credentials of user {username!r}"
                ).format(token_url=self.token_url, username=self._cred.username)
            )
        self._access = Secret(body["access_token"])
        self._refresh = Secret(body["refresh_token"]) if body.get("refresh_token") else None
        self._expires_at = self._clock() + float(body.get("expires_in", 600))
        self.refreshes += 1
        log.debug(
            "obtained an access token for %s (valid %ss)",
            self._cred.username,
            body.get("expires_in"),
        )

    def token(self, *, force: bool = False) -> Secret:
        """A valid access token (refreshed ``REFRESH_MARGIN_S`` before expiry)."""
        with self._lock:
            if force or self._access is None or self._clock() > self._expires_at - REFRESH_MARGIN_S:
                self._obtain()
            return self._access  # type: ignore[return-value]

    def invalidate(self) -> None:
        """Forget the access token (after a 401), keeping the refresh token."""
        with self._lock:
            self._access = None

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token()}"
        return r
