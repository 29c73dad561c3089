// Swagger UI on this service's OpenAPI document. A file of its own, not an inline script:
// the page's Content-Security-Policy allows only the service's own script files.
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#console",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Nothing is sent elsewhere: no outside validator, no key kept in the browser's storage.
    validatorUrl: null,
    persistAuthorization: false,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    docExpansion: "list",
    tryItOutEnabled: true,
  });
});
