/* Agente Vendedor: widget de chat para la web de la tienda. Sin dependencias ni paso de compilación.
   Uso: <script src="https://TIENDA/widget.js" data-titulo="Mi tienda" data-color="#0b5fff" defer></script> */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__agenteVendedorWidget) return;
  window.__agenteVendedorWidget = true;

  var base = new URL(script.src, document.baseURI).origin;
  var titulo = (script.getAttribute("data-titulo") || "Asistente de la tienda").slice(0, 60);
  var color = /^#[0-9a-fA-F]{6}$/.test(script.getAttribute("data-color") || "") ? script.getAttribute("data-color") : "#0b5fff";
  var POLL_MS = 4000;
  var CLAVE = "agente-vendedor:chat_id:" + base;

  function nuevoId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "web-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function chatId() {
    var id = null;
    try { id = window.localStorage.getItem(CLAVE); } catch (e) { id = null; }
    if (!id || !/^web-[A-Za-z0-9_-]{20,100}$/.test(id)) {
      id = nuevoId();
      try { window.localStorage.setItem(CLAVE, id); } catch (e) { /* sin almacenamiento: el chat dura la visita */ }
    }
    return id;
  }

  // Texto legible sobre el color de la tienda (contraste WCAG): blanco o casi negro según la luminancia.
  function textoSobre(hex) {
    var c = [1, 3, 5].map(function (i) {
      var v = parseInt(hex.substr(i, 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    var l = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    return (1.05 / (l + 0.05)) >= ((l + 0.05) / 0.05) ? "#ffffff" : "#111111";
  }

  function el(tag, attrs, hijos) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "texto") n.textContent = attrs[k];
      else if (k === "clase") n.className = attrs[k];
      else n.setAttribute(k, attrs[k]);
    });
    (hijos || []).forEach(function (h) { if (h) n.appendChild(h); });
    return n;
  }
  function euros(v) { return Number(v).toFixed(2) + " €"; }
  function icono() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "22");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  var host = el("div", { id: "agente-vendedor-widget" });
  host.style.setProperty("all", "initial");
  var raiz = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = el("link", { rel: "stylesheet", href: base + "/widget.css" });
  raiz.appendChild(css);

  var contenedor = el("div", { clase: "av" });
  contenedor.style.setProperty("--av-color", color);
  contenedor.style.setProperty("--av-texto", textoSobre(color));

  var lanzador = el("button", {
    type: "button", clase: "av-lanzador", "aria-label": "Abrir el chat: " + titulo,
    "aria-expanded": "false", "aria-controls": "av-panel"
  }, [icono(), el("span", { clase: "av-lanzador-texto", texto: "Chat" })]);

  var cerrar = el("button", { type: "button", clase: "av-cerrar", "aria-label": "Cerrar el chat", texto: "×" });
  var cabecera = el("div", { clase: "av-cabecera" }, [el("h2", { id: "av-titulo", texto: titulo }), cerrar]);
  var aviso = el("p", { clase: "av-aviso", role: "status", hidden: "hidden" });
  var lista = el("ol", { clase: "av-mensajes", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": "Conversación" });
  var escribiendo = el("p", { clase: "av-escribiendo", hidden: "hidden", texto: "Escribiendo…" });
  var carrito = el("section", { clase: "av-carrito", "aria-label": "Su carrito", hidden: "hidden" });
  var opciones = el("div", { clase: "av-opciones", role: "group", "aria-label": "Respuestas rápidas" });
  var error = el("p", { clase: "av-error", role: "alert", hidden: "hidden" });
  var entrada = el("input", {
    type: "text", id: "av-entrada", clase: "av-entrada", maxlength: "2000", autocomplete: "off",
    placeholder: "Escriba su mensaje…", "aria-label": "Escriba su mensaje"
  });
  var enviarBtn = el("button", { type: "submit", clase: "av-enviar", texto: "Enviar" });
  var formulario = el("form", { clase: "av-formulario" }, [entrada, enviarBtn]);
  var panel = el("div", {
    id: "av-panel", clase: "av-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "av-titulo", hidden: "hidden"
  }, [cabecera, aviso, lista, escribiendo, carrito, opciones, error, formulario]);

  contenedor.appendChild(panel);
  contenedor.appendChild(lanzador);
  raiz.appendChild(contenedor);
  (document.body || document.documentElement).appendChild(host);

  var id = chatId();
  var ultimo = 0;
  var vistos = {};
  var sondeo = null;
  var enviando = false;
  var cargado = false;

  function api(ruta, opciones) {
    return window.fetch(base + ruta, opciones).then(function (r) {
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (b) {
          var e = new Error(b.detail || "Error " + r.status);
          e.status = r.status;
          throw e;
        });
      }
      return r.json();
    });
  }

  function tarjeta(p) {
    var stock = p.stock > 0 ? p.stock + " disponibles" : "Agotado";
    return el("li", { clase: "av-producto" + (p.stock > 0 ? "" : " av-agotado") }, [
      el("span", { clase: "av-producto-nombre", texto: p.nombre }),
      el("span", { clase: "av-producto-precio", texto: euros(p.precio) }),
      el("span", { clase: "av-producto-stock", texto: stock })
    ]);
  }

  var AUTORES = { cliente: "Usted", agente: "Asistente", humano: "Equipo de la tienda" };

  function pintarMensaje(m) {
    if (vistos[m.id]) return;  // nunca dos veces el mismo mensaje, aunque llegue por envío y por sondeo
    vistos[m.id] = true;
    var hijos = [
      el("span", { clase: "av-autor", texto: AUTORES[m.rol] || "Asistente" }),
      el("p", { clase: "av-texto", texto: m.texto })
    ];
    if (m.productos && m.productos.length) {
      hijos.push(el("ul", { clase: "av-productos", "aria-label": "Productos" }, m.productos.map(tarjeta)));
    }
    lista.appendChild(el("li", { clase: "av-mensaje av-" + m.rol, "data-id": String(m.id) }, hijos));
  }

  function pintarCarrito(c) {
    carrito.textContent = "";
    if (!c || !c.lineas || !c.lineas.length) { carrito.hidden = true; return; }
    carrito.appendChild(el("h3", { texto: "Su carrito" }));
    carrito.appendChild(el("ul", {}, c.lineas.map(function (l) {
      return el("li", { texto: l.cantidad + " × " + l.nombre + " — " + euros(l.subtotal) });
    })));
    carrito.appendChild(el("p", { clase: "av-total", texto: "Total: " + euros(c.total) }));
    carrito.hidden = false;
  }

  function pintarOpciones(lista_) {
    opciones.textContent = "";
    (lista_ || []).forEach(function (texto) {
      var b = el("button", { type: "button", clase: "av-opcion", texto: texto });
      b.addEventListener("click", function () { enviar(texto); });
      opciones.appendChild(b);
    });
  }

  function pintarAviso(texto) {
    aviso.textContent = texto || "";
    aviso.hidden = !texto;
  }

  function aplicar(datos) {
    var nuevos = (datos.mensajes || []).filter(function (m) { return !vistos[m.id]; });
    nuevos.forEach(pintarMensaje);
    if (datos.ultimo_id > ultimo) ultimo = datos.ultimo_id;
    pintarCarrito(datos.carrito);
    pintarOpciones(datos.opciones);
    if (nuevos.length) lista.scrollTop = lista.scrollHeight;  // after the cart and options took their room
  }

  function mostrarError(texto) {
    error.textContent = texto || "";
    error.hidden = !texto;
  }

  function sondear() {
    return api("/canales/web/chats/" + encodeURIComponent(id) + "?despues=" + ultimo)
      .then(function (datos) { mostrarError(""); aplicar(datos); })
      .catch(function () { /* sin conexión: el siguiente sondeo recupera desde el último id */ });
  }

  function enviar(texto) {
    texto = (texto || "").trim();
    if (!texto || enviando) return;
    enviando = true;
    enviarBtn.disabled = true;
    escribiendo.hidden = false;
    mostrarError("");
    api("/canales/web/mensajes", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ chat_id: id, texto: texto, despues: ultimo })
    }).then(function (datos) {
      entrada.value = "";
      aplicar(datos);
    }).catch(function (e) {
      mostrarError(e.status === 429 ? "Demasiados mensajes seguidos: espere un momento." : "No se pudo enviar el mensaje. Inténtelo de nuevo.");
    }).then(function () {
      enviando = false;
      enviarBtn.disabled = false;
      escribiendo.hidden = true;
      entrada.focus();
    });
  }

  function abrir() {
    panel.hidden = false;
    lanzador.setAttribute("aria-expanded", "true");
    lanzador.setAttribute("aria-label", "Cerrar el chat: " + titulo);
    entrada.focus();
    if (!cargado) {
      cargado = true;
      api("/canales/web/config").then(function (c) { pintarAviso(c.aviso); }).catch(function () {});
    }
    sondear();
    if (!sondeo) sondeo = window.setInterval(sondear, POLL_MS);
  }

  function cerrarPanel() {
    panel.hidden = true;
    lanzador.setAttribute("aria-expanded", "false");
    lanzador.setAttribute("aria-label", "Abrir el chat: " + titulo);
    if (sondeo) { window.clearInterval(sondeo); sondeo = null; }
    lanzador.focus();
  }

  lanzador.addEventListener("click", function () { if (panel.hidden) abrir(); else cerrarPanel(); });
  cerrar.addEventListener("click", cerrarPanel);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") cerrarPanel(); });
  formulario.addEventListener("submit", function (e) { e.preventDefault(); enviar(entrada.value); });
})();
