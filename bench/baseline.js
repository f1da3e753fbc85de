/*! The baseline `cargo xtask bench` measures meterwall against: the smallest meter a publisher
 * could write by hand. It counts distinct article ids in localStorage; over the limit it keeps two
 * paragraphs and puts a plain email form after them. No config, periods, tiers, languages,
 * accessibility or failure policy: what meterwall's extra time and bytes buy is exactly those. */
(function () {
  "use strict";
  var LIMIT = 3;
  var KEY = "baseline:v1";
  // The same User Timing names as meterwall, so the bench reads both the same way.
  performance.mark("meterwall:start");

  function seenIds() {
    try {
      var ids = JSON.parse(localStorage.getItem(KEY) || "[]");
      return Array.isArray(ids) ? ids : [];
    } catch (e) {
      return [];
    }
  }

  function wall(body) {
    var paragraphs = 0;
    var children = Array.prototype.slice.call(body.children);
    for (var i = 0; i < children.length; i++) {
      if (paragraphs >= 2) body.removeChild(children[i]);
      else if (children[i].tagName === "P") paragraphs++;
    }
    var form = document.createElement("form");
    form.className = "baseline-wall";
    form.innerHTML =
      "<h2>Keep reading for free!</h2>" +
      "<p>Give your email address to read this article and three more each month.</p>" +
      '<label>Email <input type="email" name="email" required autocomplete="email"></label> ' +
      '<button type="submit">Continue</button>';
    body.appendChild(form);
  }

  function decide() {
    var body = document.querySelector(".article-body");
    if (!body) return;
    var id = body.getAttribute("data-meterwall-id") || location.pathname;
    var seen = seenIds();
    var locked = false;
    if (seen.indexOf(id) === -1) {
      if (seen.length < LIMIT) {
        seen.push(id);
        try {
          localStorage.setItem(KEY, JSON.stringify(seen));
        } catch (e) {
          // Storage blocked: the article stays open.
        }
      } else {
        locked = true;
      }
    }
    if (locked) wall(body);
    body.setAttribute("data-meterwall-state", locked ? "locked" : "open");
    performance.mark("meterwall:decided");
    performance.measure("meterwall:decision", "meterwall:start", "meterwall:decided");
  }

  // An async script may run before the article is parsed.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", decide);
  else decide();
})();
