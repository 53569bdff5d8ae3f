from tests.panel.conftest import Panel

def test_every_page_renders(panel: Panel) -> None:
    for url in ["/panel/", "/panel/productos", "/panel/productos/nuevo", "/panel/productos/importar", "/panel/pedidos",
                "/panel/clientes", "/panel/conversaciones", "/panel/conversaciones/filas", "/panel/exportaciones",
                "/panel/usuarios", "/panel/productos?q=taladro", "/panel/clientes?q=ana"]:
        r = panel.client.get(url)
        assert r.status_code == 200, (url, r.text[:3000])
