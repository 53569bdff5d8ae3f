"""User management is for admins only, and the shop never loses its last admin."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import StaffMember


def test_admin_creates_lists_and_updates_users(client: TestClient, anon_client: TestClient) -> None:
    created = client.post(
        "/usuarios/", json={"email": "Nuevo@Tienda.example.com", "password": "una-clave-segura", "rol": "vendedor"}
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["email"], body["rol"], body["activo"]) == ("nuevo@tienda.example.com", "vendedor", True)
    assert "password" not in body and "password_hash" not in body

    login = anon_client.post(
        "/auth/token", data={"username": "nuevo@tienda.example.com", "password": "una-clave-segura"}
    )
    assert login.status_code == 200

    assert (
        client.post(
            "/usuarios/", json={"email": "nuevo@tienda.example.com", "password": "otra-clave-segura"}
        ).status_code
        == 409
    )
    assert "nuevo@tienda.example.com" in [u["email"] for u in client.get("/usuarios/").json()]

    changed = client.patch(f"/usuarios/{body['id']}", json={"password": "clave-cambiada-ya"})
    assert changed.status_code == 200
    assert (
        anon_client.post(
            "/auth/token", data={"username": "nuevo@tienda.example.com", "password": "una-clave-segura"}
        ).status_code
        == 401
    )
    assert (
        anon_client.post(
            "/auth/token", data={"username": "nuevo@tienda.example.com", "password": "clave-cambiada-ya"}
        ).status_code
        == 200
    )


def test_user_validation(client: TestClient) -> None:
    short = client.post("/usuarios/", json={"email": "a@tienda.example.com", "password": "corta"})
    assert short.status_code == 422
    assert short.json()["errores"][0]["campo"] == "password"
    bad_role = client.post(
        "/usuarios/", json={"email": "a@tienda.example.com", "password": "suficientemente-larga", "rol": "root"}
    )
    assert bad_role.status_code == 422
    assert bad_role.json()["errores"][0]["campo"] == "rol"
    assert client.patch("/usuarios/999", json={"activo": False}).status_code == 404


def test_last_admin_cannot_be_demoted_or_deactivated(client: TestClient, make_user: Callable[..., StaffMember]) -> None:
    me = client.get("/auth/me").json()
    assert client.patch(f"/usuarios/{me['id']}", json={"activo": False}).status_code == 409
    assert client.patch(f"/usuarios/{me['id']}", json={"rol": "vendedor"}).json()["code"] == "ultimo_admin"
    make_user("admin")
    assert client.patch(f"/usuarios/{me['id']}", json={"rol": "vendedor"}).status_code == 200


def test_vendedor_cannot_manage_users(anon_client: TestClient, make_user: Callable[..., StaffMember]) -> None:
    vendedor = make_user("vendedor")
    forbidden = anon_client.post(
        "/usuarios/", json={"email": "x@tienda.example.com", "password": "una-clave-segura"}, headers=vendedor.headers
    )
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "Esta operación requiere el rol admin", "code": "prohibido"}
