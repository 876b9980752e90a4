// Starts Swagger UI; kept out of the page so the Content-Security-Policy can forbid inline scripts.
window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: el.dataset.specUrl, dom_id: "#swagger-ui" });
});
