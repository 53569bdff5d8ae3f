"""Schemathesis fuzzes every operation of our OpenAPI schema: no 5xx, no response that breaks the schema.

Runs as an admin (everything reachable) and anonymously (what a visitor can reach), on both databases,
with a bounded number of examples per operation so CI stays within minutes. Hypothesis drives each
operation's strategy directly (schemathesis' lazy pytest loader does not support this pytest version).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance
from schemathesis.core.result import Err

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
FUZZ = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _fuzz_every_operation(app: FastAPI, headers: dict[str, str]) -> int:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()

        @FUZZ
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:
            pytest.fail(f"{operation.method.upper()} {operation.path}: {exc}")
        operations += 1
    return operations


def test_fuzz_as_admin(app: FastAPI, admin_headers: dict[str, str]) -> None:
    assert _fuzz_every_operation(app, admin_headers) >= 15


def test_fuzz_anonymous(app: FastAPI) -> None:
    assert _fuzz_every_operation(app, {}) >= 15


def test_the_fuzzer_catches_a_server_error(settings: object, admin_headers: dict[str, str]) -> None:
    from agente_vendedor.main import create_app
    from agente_vendedor.settings import Settings

    assert isinstance(settings, Settings)
    broken = create_app(settings)

    @broken.get("/roto/{n}")
    def roto(n: int) -> dict[str, int]:
        return {"n": 100 // (n - n)}

    with pytest.raises(pytest.fail.Exception, match="GET /roto/"):
        _fuzz_every_operation(broken, admin_headers)
