"""Fixtures for the panel: a logged-in browser-like client (cookie session + CSRF token from the page)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD, StaffMember, _wipe
from tests.rag.conftest import reset_index

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a panel page embeds in its forms."""
    match = _CSRF.search(html)
    assert match, "la página no lleva el token CSRF"
    return match.group(1)


@dataclass
class Panel:
    """A TestClient logged into the panel as one staff member, with that session's CSRF token."""

    client: TestClient
    user: StaffMember
    csrf: str

    def post(self, url: str, data: dict[str, str] | None = None, **kwargs: Any) -> httpx2.Response:
        """POST a form of this session (the CSRF token is added)."""
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


def login(client: TestClient, email: str, password: str = TEST_PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token (read from the next page)."""
    token = csrf_of(client.get("/panel/entrar").text)
    response = client.post("/panel/entrar", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/panel/").text)


@pytest.fixture(autouse=True)
def _clean_index(app: FastAPI) -> Iterator[None]:
    """Empty vector collections per test, as the database is wiped."""
    reset_index(app)
    yield
    reset_index(app)
    app.state.rate_limiter.reset()


@pytest.fixture
def panel_for(app: FastAPI, make_user: Callable[..., StaffMember]) -> Iterator[Callable[[str], Panel]]:
    """Log a fresh user of a role into the panel with their own cookie jar."""
    clients: list[TestClient] = []

    def make(rol: str = "admin") -> Panel:
        user = make_user(rol)
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return Panel(client, user, login(client, user.email))

    yield make
    for client in clients:
        client.__exit__(None, None, None)
    _wipe(app)


@pytest.fixture
def panel(panel_for: Callable[[str], Panel]) -> Panel:
    """An admin logged into the panel."""
    return panel_for("admin")
