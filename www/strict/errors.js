/*! For tests/csp_e2e.rs: records meterwall:error messages on <html data-meterwall-errors>, as a
    page script (the page's policy allows no inline script). */
document.addEventListener("meterwall:error", function (e) {
  var html = document.documentElement;
  html.setAttribute("data-meterwall-errors", (html.getAttribute("data-meterwall-errors") || "") + e.detail.message + "\n");
});
