// Confirm dangerous actions (forms with data-confirmar) without inline scripts, so the panel's CSP stays strict.
document.addEventListener("submit", function (event) {
  var mensaje = event.target.getAttribute("data-confirmar");
  if (mensaje && !window.confirm(mensaje)) {
    event.preventDefault();
  }
});
// htmx requests carry the session's CSRF token (read from the page's meta tag) like the forms do.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  }
});
