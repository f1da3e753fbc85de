/*! For tests/csp_e2e.rs: runs eval under this page's policy and records whether it was refused.
    It must run as the page's own script: code a WebDriver injects is exempt from the page's CSP
    in Chrome and Firefox, so eval there proves nothing. */
(function () {
  "use strict";
  var outcome;
  try {
    eval("1");
    outcome = "ran";
  } catch (e) {
    outcome = e && e.name ? e.name : String(e);
  }
  document.documentElement.setAttribute("data-eval-probe", outcome);
})();
