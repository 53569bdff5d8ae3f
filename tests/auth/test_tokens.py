"""Login, tokens and what makes a token stop working."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx2
import jwt
from fastapi.testclient import TestClient

from agente_vendedor.settings import Settings
from tests.conftest import TEST_PASSWORD, StaffMember


def _login(client: TestClient, username: str, password: str = TEST_PASSWORD) -> httpx2.Response:
    return client.post("/auth/token", data={"username": username, "password": password})


def test_login_returns_a_bearer_token_that_opens_the_api(
    anon_client: TestClient, make_user: Callable[..., StaffMember], settings: Settings
) -> None:
    vendedor = make_user("vendedor", email="vera@tienda.example.com")
    response = anon_client.post("/auth/token", data={"username": "Vera@Tienda.example.com", "password": TEST_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60
    claims = jwt.decode(body["access_token"], settings.SECRET_KEY, algorithms=["HS256"])
    assert claims["sub"] == str(vendedor.id)
    assert claims["rol"] == "vendedor"
    assert claims["exp"] > claims["iat"]

    headers = {"Authorization": f"Bearer {body['access_token']}"}
    me = anon_client.get("/auth/me", headers=headers).json()
    assert (me["email"], me["rol"]) == ("vera@tienda.example.com", "vendedor")
    assert me["ultimo_acceso"] is not None
    assert "password_hash" not in me
    assert anon_client.get("/clientes/", headers=headers).status_code == 200


def test_wrong_password_and_unknown_user_look_the_same(
    anon_client: TestClient, make_user: Callable[..., StaffMember]
) -> None:
    make_user("admin", email="ana@tienda.example.com")
    wrong = anon_client.post("/auth/token", data={"username": "ana@tienda.example.com", "password": "no-es-esta"})
    unknown = anon_client.post("/auth/token", data={"username": "nadie@tienda.example.com", "password": "no-es-esta"})
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json() == unknown.json() == {"detail": "Email o contraseña incorrectos", "code": "credenciales_invalidas"}
    )
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


def test_inactive_user_cannot_log_in_and_its_tokens_stop_working(
    client: TestClient, anon_client: TestClient, make_user: Callable[..., StaffMember]
) -> None:
    vendedor = make_user("vendedor", email="baja@tienda.example.com")
    assert anon_client.get("/clientes/", headers=vendedor.headers).status_code == 200
    assert client.patch(f"/usuarios/{vendedor.id}", json={"activo": False}).status_code == 200
    revoked = anon_client.get("/clientes/", headers=vendedor.headers)
    assert revoked.status_code == 401
    assert revoked.headers["WWW-Authenticate"] == "Bearer"
    assert _login(anon_client, "baja@tienda.example.com").status_code == 401


def test_expired_tampered_foreign_and_unsigned_tokens_are_401(
    anon_client: TestClient, make_user: Callable[..., StaffMember], settings: Settings
) -> None:
    admin = make_user("admin")
    now = datetime.now(UTC)
    base = {"sub": str(admin.id), "rol": "admin", "iat": now - timedelta(hours=2)}
    expired = jwt.encode({**base, "exp": now - timedelta(minutes=1)}, settings.SECRET_KEY, algorithm="HS256")
    foreign = jwt.encode({**base, "exp": now + timedelta(hours=1)}, "otra-clave-cualquiera" * 3, algorithm="HS256")
    unsigned = jwt.encode({**base, "exp": now + timedelta(hours=1)}, None, algorithm="none")
    valid = admin.headers["Authorization"].removeprefix("Bearer ")
    header, payload, signature = valid.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    no_exp = jwt.encode({"sub": str(admin.id), "rol": "admin", "iat": now}, settings.SECRET_KEY, algorithm="HS256")
    for token in (expired, foreign, unsigned, tampered, no_exp, "basura", ""):
        response = anon_client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert anon_client.get("/auth/me", headers=admin.headers).status_code == 200


def test_role_comes_from_the_database_not_the_token(
    client: TestClient, anon_client: TestClient, make_user: Callable[..., StaffMember]
) -> None:
    promoted = make_user("vendedor")
    assert anon_client.get("/usuarios/", headers=promoted.headers).status_code == 403
    client.patch(f"/usuarios/{promoted.id}", json={"rol": "admin"})
    assert anon_client.get("/usuarios/", headers=promoted.headers).status_code == 200
