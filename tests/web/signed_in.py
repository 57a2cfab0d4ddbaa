"""Signing people in for route tests: accounts made through the service, sessions as cookies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from safeguard.bootstrap import Services
from safeguard.domain.people import Role, User
from safeguard.web.people import SESSION_COOKIE
from tests.web.conftest import ApiClient

PASSWORD = "correct horse battery staple"


def make_user(services: Services, username: str, *roles: Role, force: str | None = None) -> User:
    """An account with `PASSWORD` (audited as made by ``test``)."""
    return services.users.create(username, PASSWORD, roles, force_code=force, actor="test")


@dataclass
class Browserless:
    """One signed-in person driving the in-process app: cookie sent, CSRF token at hand."""

    api: ApiClient
    user: User
    token: str
    csrf: str

    @property
    def cookies(self) -> dict[str, str]:
        return {"Cookie": f"{SESSION_COOKIE}={self.token}"}

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.api.get(url, scope=None, headers=self.cookies, **kwargs)

    def post(self, url: str, data: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """POST a form with the session's CSRF token added (pass ``csrf=False`` to leave it out)."""
        form = dict(data or {})
        if kwargs.pop("csrf", True):
            form["csrf_token"] = self.csrf
        return self.api.post(url, scope=None, headers=self.cookies, data=form, **kwargs)


def signed_in(api: ApiClient, username: str, *roles: Role, force: str | None = None) -> Browserless:
    """Make the account (if `roles` are given) and sign it in through the service."""
    if roles:
        make_user(api.services, username, *roles, force=force)
    signed = api.services.sign_in.sign_in(username, PASSWORD)
    return Browserless(api, signed.user, signed.token, signed.csrf_token)
