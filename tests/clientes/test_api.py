"""Clientes over HTTP, as a shop's staff would use them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import cliente_data


def _count(client: TestClient) -> int:
    return int(client.get("/clientes/").headers["X-Total-Count"])


def test_create_returns_201_with_the_stored_cliente(client: TestClient) -> None:
    response = client.post(
        "/clientes/",
        json=cliente_data(nombre="  Ana García  ", email="Ana.Garcia@Example.COM", telefono="+34 (91) 555-12-12"),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["nombre"] == "Ana García"
    assert body["email"] == "ana.garcia@example.com"
    assert body["telefono"] == "+34 (91) 555-12-12"
    assert body["activo"] is True
    assert body["fecha_registro"].endswith("Z") or body["fecha_registro"].endswith("+00:00")
    assert client.get(f"/clientes/{body['id']}").json() == body


def test_duplicate_email_is_409_in_spanish_and_writes_nothing(client: TestClient) -> None:
    client.post("/clientes/", json=cliente_data(email="repetido@example.com"))
    response = client.post("/clientes/", json=cliente_data(nombre="Otra Persona", email="REPETIDO@example.com"))
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Ya existe un cliente con el email repetido@example.com",
        "code": "email_duplicado",
    }
    assert _count(client) == 1


def test_invalid_fields_are_422_naming_the_field_in_spanish(client: TestClient) -> None:
    cases = {
        "nombre": cliente_data(nombre=" a "),
        "email": cliente_data(email="no-es-un-email"),
        "telefono": cliente_data(telefono="llámame"),
    }
    for field, payload in cases.items():
        response = client.post("/clientes/", json=payload)
        assert response.status_code == 422, field
        body = response.json()
        assert body["code"] == "validacion"
        assert [e["campo"] for e in body["errores"]] == [field]
        assert f"'{field}'" in body["detail"]
    short_phone = client.post("/clientes/", json=cliente_data(telefono="12345"))
    assert short_phone.json()["errores"][0]["mensaje"] == "debe tener entre 7 y 20 caracteres"
    short_name = client.post("/clientes/", json=cliente_data(nombre="A"))
    assert short_name.json()["errores"][0]["mensaje"] == "debe tener al menos 2 caracteres"
    missing = client.post("/clientes/", json={"nombre": "Sin Email"})
    assert missing.json()["errores"] == [{"campo": "email", "ubicacion": "body", "mensaje": "es obligatorio"}]
    assert _count(client) == 0


def test_unknown_fields_and_control_characters_are_rejected(client: TestClient) -> None:
    assert client.post("/clientes/", json=cliente_data(precio=3)).status_code == 422
    response = client.post("/clientes/", json=cliente_data(nombre="Nulo\x00Byte"))
    assert response.status_code == 422
    assert "caracteres de control" in response.json()["detail"]
    assert _count(client) == 0


def test_hostile_text_is_stored_verbatim_not_executed(client: TestClient) -> None:
    nombre = "Robert'); DROP TABLE clientes;-- <script>alert(1)</script>"
    response = client.post("/clientes/", json=cliente_data(nombre=nombre[:100]))
    assert response.status_code == 201
    assert client.get(f"/clientes/{response.json()['id']}").json()["nombre"] == nombre[:100]
    assert _count(client) == 1


def test_list_is_newest_first_with_total_filter_and_pages(client: TestClient) -> None:
    ids = [client.post("/clientes/", json=cliente_data()).json()["id"] for _ in range(5)]
    client.delete(f"/clientes/{ids[0]}")

    everyone = client.get("/clientes/")
    assert everyone.headers["X-Total-Count"] == "5"
    assert [c["id"] for c in everyone.json()] == list(reversed(ids))

    page = client.get("/clientes/", params={"skip": 1, "limit": 2})
    assert [c["id"] for c in page.json()] == [ids[3], ids[2]]
    assert page.headers["X-Total-Count"] == "5"

    inactive = client.get("/clientes/", params={"activo": "false"})
    assert [c["id"] for c in inactive.json()] == [ids[0]]
    assert client.get("/clientes/", params={"activo": "true"}).headers["X-Total-Count"] == "4"


def test_limit_above_500_is_refused(client: TestClient) -> None:
    response = client.get("/clientes/", params={"limit": 501})
    assert response.status_code == 422
    assert response.json()["errores"][0]["campo"] == "limit"
    assert client.get("/clientes/", params={"limit": 500}).status_code == 200


def test_patch_changes_only_what_was_sent(client: TestClient) -> None:
    created = client.post("/clientes/", json=cliente_data(telefono="600 111 222")).json()
    response = client.patch(f"/clientes/{created['id']}", json={"direccion": "Gran Vía 1, Madrid", "telefono": None})
    assert response.status_code == 200
    body = response.json()
    assert body["direccion"] == "Gran Vía 1, Madrid"
    assert body["telefono"] is None
    assert body["nombre"] == created["nombre"]
    assert body["email"] == created["email"]


def test_patch_validates_like_create(client: TestClient) -> None:
    first = client.post("/clientes/", json=cliente_data(email="uno@example.com")).json()
    client.post("/clientes/", json=cliente_data(email="dos@example.com"))
    assert client.patch(f"/clientes/{first['id']}", json={"email": "DOS@example.com"}).status_code == 409
    assert client.patch(f"/clientes/{first['id']}", json={"nombre": None}).status_code == 422
    assert client.patch(f"/clientes/{first['id']}", json={"email": "mal"}).status_code == 422
    assert client.patch(f"/clientes/{first['id']}", json={"email": "UNO@example.com"}).status_code == 200
    assert client.get(f"/clientes/{first['id']}").json()["email"] == "uno@example.com"


def test_delete_is_soft_and_reversible(client: TestClient) -> None:
    created = client.post("/clientes/", json=cliente_data()).json()
    response = client.delete(f"/clientes/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/clientes/{created['id']}").json()["activo"] is False
    assert client.patch(f"/clientes/{created['id']}", json={"activo": True}).json()["activo"] is True


def test_unknown_id_is_404_everywhere(client: TestClient) -> None:
    expected = {"detail": "No existe ningún cliente con id 999", "code": "cliente_no_encontrado"}
    assert client.get("/clientes/999").json() == expected
    assert client.patch("/clientes/999", json={"nombre": "Nadie"}).status_code == 404
    assert client.delete("/clientes/999").status_code == 404
    assert client.get("/clientes/99999999999").status_code == 422
    assert client.get("/clientes/abc").status_code == 422


def test_search_ignores_accents_and_case_and_ranks_best_first(client: TestClient) -> None:
    client.post("/clientes/", json=cliente_data(nombre="María José Ortega", email="mjo@example.com"))
    client.post(
        "/clientes/", json=cliente_data(nombre="José Pérez", email="jp@example.com", telefono="+34 600 123 456")
    )
    client.post("/clientes/", json=cliente_data(nombre="Josefina Ruiz", email="josefina@example.com"))
    client.post("/clientes/", json=cliente_data(nombre="Pedro Sánchez", email="pedro@example.com"))

    names = [c["nombre"] for c in client.get("/clientes/buscar", params={"q": "jose"}).json()]
    assert names[0] in ("José Pérez", "Josefina Ruiz")
    assert set(names) == {"José Pérez", "Josefina Ruiz", "María José Ortega"}
    assert names.index("María José Ortega") == 2

    assert [c["nombre"] for c in client.get("/clientes/buscar", params={"q": "JOSÉ PÉREZ"}).json()] == ["José Pérez"]
    assert [c["nombre"] for c in client.get("/clientes/buscar", params={"q": "perez jose"}).json()] == ["José Pérez"]
    assert [c["nombre"] for c in client.get("/clientes/buscar", params={"q": "sanch"}).json()] == ["Pedro Sánchez"]


def test_search_by_email_and_phone(client: TestClient) -> None:
    client.post(
        "/clientes/", json=cliente_data(nombre="José Pérez", email="jp@example.com", telefono="+34 600 123 456")
    )
    client.post("/clientes/", json=cliente_data(nombre="Ana Ruiz", email="ana@example.com", telefono="611 999 888"))

    assert [c["nombre"] for c in client.get("/clientes/buscar", params={"q": "ana@example.com"}).json()] == ["Ana Ruiz"]
    assert [c["nombre"] for c in client.get("/clientes/buscar", params={"q": "600-123-456"}).json()] == ["José Pérez"]
    assert [c["nombre"] for c in client.get("/clientes/buscar", params={"q": "611 999"}).json()] == ["Ana Ruiz"]


def test_search_treats_wildcards_and_sql_as_plain_text(client: TestClient) -> None:
    client.post("/clientes/", json=cliente_data(nombre="Ana Ruiz"))
    for q in ["%", "_", "' OR 1=1 --", "\\"]:
        response = client.get("/clientes/buscar", params={"q": q})
        assert response.status_code == 200, q
        assert response.json() == [], q
    assert client.get("/clientes/buscar", params={"q": ""}).status_code == 422
    assert client.get("/clientes/buscar").status_code == 422
