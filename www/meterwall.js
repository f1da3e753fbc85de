/* meterwall loader: paste as a classic <script async> tag; it loads the wasm widget. The build
   minifies it without comments (README "Size"): readers download every byte of it. */
(function () {
  "use strict";
  var w = window;
  var d = document;
  // The start of "time to decision", measured by `cargo xtask bench` (User Timing; every browser
  // with WebAssembly has performance.mark).
  performance.mark("meterwall:start");
  // document.currentScript is null inside module scripts and after the first run of a script,
  // so the loader, a classic script, reads it synchronously here.
  var script = d.currentScript;
  var queue = (w.meterwall = w.meterwall || []);
  // Pasted twice (or the one-request build beside the default one): the first copy runs the page.
  // It marks the queue at once, as two async copies can both run before either has loaded.
  if (queue.version || queue.loading) return;
  queue.loading = true;
  var NAMES = ["ready", "view", "lock", "seen", "register", "unlock", "subscribe-click", "login-click", "error", "before-lock"];

  function emit(name, detail) {
    d.dispatchEvent(new CustomEvent("meterwall:" + name, { detail: detail }));
  }
  function report(message) {
    console.error("[meterwall] " + message);
    emit("error", { version: 1, message: message });
  }
  // The widget's own main-thread time, in User Timing measures that `cargo xtask bench` adds up:
  // each synchronous stretch of its work since `from` (a performance.now() time).
  function work(from) {
    try {
      performance.measure("meterwall:work", { start: from });
    } catch (e) {
      // User Timing Level 3 missing: nothing is measured, nothing else changes.
    }
  }
  // A listener for a meterwall event, as `on` commands add them: queued ones are added at once,
  // so that they hear the loader's own errors too (a JSON block that does not parse, a wasm that
  // cannot load).
  function on(name, fn) {
    d.addEventListener("meterwall:" + name, function (e) {
      fn(e.detail);
    });
  }
  // What is pushed before the widget runs: queued config and event subscriptions take effect
  // before the first decision; every other command runs after it, in order (`rest`).
  var calls = [];
  var rest = [];
  function take(item) {
    if (item && item[0] === "config") calls = calls.concat(item[1]);
    else if (item && item[0] === "on") on(item[1], item[2]);
    else rest.push(item);
  }
  for (var q = 0; q < queue.length; q++) take(queue[q]);
  var taken = queue.length;
  // The anti-flicker snippet's class, on <html> while it hides part of the article.
  var pending = d.documentElement.classList;
  function fail(message) {
    // The widget will not decide: the article stays as it is, readable, and the anti-flicker
    // snippet, if any, lets it show.
    pending.remove("meterwall-pending");
    report(message);
  }

  // The one-request build (meterwall.inline.js) defines meterwallInline(): the glue and the wasm
  // come with this script instead of from two more requests.
  var inline = typeof meterwallInline === "function";
  var src = (script && script.src) || "";
  var data = (script && script.dataset) || {};

  // Config layers, later ones winning: the JSON block and the script tag's data-* attributes
  // (page config), then the article element's attributes (read by the widget), then queued
  // ["config", {...}] commands.
  var attrs = {};
  // data-registered-limit arrives as registeredLimit and means registered.limit: such keys go in a
  // layer of their own after the others, so that a data-registered beside them (JSON text, which
  // the widget reads as an object) merges with them key by key.
  var registered = {};
  var page = [attrs, { registered: registered }];
  for (var key in data) {
    if (key === "wasmIntegrity") continue;
    var nested = /^registered([A-Z])(.*)$/.exec(key);
    if (nested) registered[nested[1].toLowerCase() + nested[2]] = data[key];
    else attrs[key] = data[key];
  }

  // Events to window.dataLayer for tag managers, while the config asks (dataLayer: true), as set
  // by the config layers the loader holds (`layers`, later ones winning).
  var toDataLayer = false;
  var listening = false;
  function dataLayer(layers) {
    toDataLayer = false;
    for (var j = 0; j < layers.length; j++) {
      var v = layers[j] && layers[j].dataLayer;
      // `null` means "not given", as in the widget's merge.
      if (v != null) toDataLayer = v === true || v === "true" || v === "1";
    }
    if (!toDataLayer || listening) return;
    listening = true;
    NAMES.forEach(function (name) {
      d.addEventListener("meterwall:" + name, function (e) {
        if (toDataLayer) (w.dataLayer = w.dataLayer || []).push({ event: "meterwall." + name, meterwall: e.detail });
      });
    });
  }
  // From the start, as the page's own config and the queued config say: a widget that cannot load
  // says so there too, and so do the loader's own first errors (a JSON block that does not parse
  // is one, so the layers before it count).
  dataLayer(page.concat(calls));

  // Read again once the document is parsed if it is not there yet: a block after this script (in
  // the body, say) has not been parsed when an async or a plain script tag runs.
  var block;
  function readBlock() {
    // A <script> only: markup a page lets others write (a comment, say) may keep an id, never a
    // script, so it cannot put a config of its own before the publisher's.
    block = d.querySelector("script#meterwall-config");
    if (block) {
      try {
        // A list is its layers, in order: the loader reads dataLayer from each.
        page = [].concat(JSON.parse(block.textContent), page);
        dataLayer(page.concat(calls));
      } catch (e) {
        // Still arriving (an async script can run while the parser is inside the block): read
        // again once the page is parsed. Else an unreadable layer (`0`), as a layer that is not
        // an object is: the widget then says what the page does, under the failure policy that
        // the other layers give, rather than metering on the rest.
        if (d.readyState === "loading") block = null;
        else report("the JSON in <script id=\"meterwall-config\"> does not parse (" + e.message + ")"), page.push(0);
      }
    }
  }
  readBlock();
  if (!src && !inline) return fail("the loader must be included with a classic <script src> tag");

  // Runs the widget once its module `m` is instantiated, and the article parsed: an async script
  // can run while the rest of the page is still arriving, and the gate needs all of the article.
  function start(m) {
    if (d.readyState === "loading") {
      d.addEventListener("DOMContentLoaded", function () {
        start(m);
      });
      return;
    }
    var began = performance.now();
    if (!block) readBlock();
    // While the first decision waits, commands pushed meanwhile join the queued ones (`rest`),
    // so that all run after it in the order they were made.
    var holding = false;
    // One command, as `push` runs each of its arguments.
    function one(item) {
      // Held, as queued ones were: `on` and `config` taken at once, the rest after the decision.
      if (holding) return void take(item);
      if (typeof item === "function") return item(api);
      var fn = item && api[item[0]];
      if (typeof fn !== "function") return fail("unknown command " + JSON.stringify(item && item[0]));
      return fn.apply(api, item.slice(1));
    }
    var api = {
      version: 1,
      mount: function (config) {
        var layers = calls.concat(config === undefined ? [] : config);
        dataLayer(page.concat(layers));
        return m.mountWith(page, layers);
      },
      why: m.why,
      state: m.state,
      reset: m.reset,
      setSubscriber: m.setSubscriber,
      setToken: m.setToken,
      on: on,
      // Each argument, as the queue's own push takes them; the last one's answer is returned.
      push: function () {
        return [].map.call(arguments, one).pop();
      },
      config: function (layer) {
        calls = calls.concat(layer);
      }
    };
    // And what was pushed since this script ran.
    for (var i = taken; i < queue.length; i++) take(queue[i]);
    w.meterwall = api;
    var decided = null;
    try {
      decided = api.mount();
    } catch (e) {
      // mount has logged the cause and fired meterwall:error; the article stays as the policy says.
      pending.remove("meterwall-pending");
      // A trap (a bug in the widget, see README "Failure policy") has stopped it: the queued
      // commands are not run, and the widget is not ready. The name, not `instanceof`, for bytes.
      if (e.name == "RuntimeError") return;
    }
    // Runs one queued command; a publisher's function that throws is reported and the queue goes on.
    function run(item) {
      try {
        api.push(item);
      } catch (e) {
        report("a queued command threw (" + ((e && e.message) || e) + "); the next ones still run");
      }
    }
    function ready() {
      holding = false;
      rest.forEach(run);
      emit("ready", { version: 1 });
    }
    if (decided && typeof decided.then === "function") {
      // The decision waits (a kept subscriber token being checked, a prerendered page not yet
      // shown): the queued commands run after it, as they would have.
      holding = true;
      work(began);
      decided.then(ready, ready);
    } else {
      ready();
      work(began);
    }
  }

  // A 404, a wrong MIME type, an integrity mismatch, or a CSP without 'wasm-unsafe-eval'.
  function broken(e) {
    var why = (e && e.message) || e;
    if (data.wasmIntegrity) why += "; check data-wasm-integrity against the deployed meterwall_wasm_bg.wasm";
    fail("the widget could not load (" + why + "); the article stays readable");
  }

  // Loads the wasm and runs the widget. The `meterwall:load` mark says when, and whether after
  // the first paint.
  function go() {
    // Unguarded, as the first mark is.
    performance.mark("meterwall:load", { detail: { afterPaint: paintFirst } });
    // Turned off by the browser (a lockdown or strict security mode) or by policy.
    if (typeof WebAssembly !== "object") return broken("WebAssembly is unavailable in this browser");
    if (inline) {
      var m;
      var compiling = performance.now();
      try {
        // The glue, and the wasm's bytes decoded from the text they travel in.
        var bundled = meterwallInline();
        // Synchronous compilation, on purpose: the module is small, and the decision can then be
        // made in this same task (when the widget starts at once, before the browser paints).
        bundled.glue.initSync({ module: bundled.wasm });
        m = bundled.glue;
      } catch (e) {
        return broken(e);
      }
      work(compiling);
      start(m);
    } else {
      // The wasm is fetched and compiled (off the main thread) while the glue downloads, not after.
      // Subresource Integrity covers the script tag only; data-wasm-integrity covers the wasm.
      var wasm = new URL("meterwall_wasm_bg.wasm", src);
      var options = data.wasmIntegrity ? { integrity: data.wasmIntegrity } : {};
      var compiled = (
        WebAssembly.compileStreaming ? WebAssembly.compileStreaming(fetch(wasm, options)) : Promise.reject()
      ).catch(function () {
        // No streaming (an old browser, or a server that does not say application/wasm): fetch
        // again, from the HTTP cache when there is one, and compile the bytes.
        return fetch(wasm, options).then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status + " for " + wasm);
          return response.arrayBuffer().then(WebAssembly.compile);
        });
      });
      // Handled here too: if the glue itself cannot load, its error is the one reported.
      compiled.catch(function () {});
      import(new URL("meterwall_wasm.js", src))
        .then(function (glue) {
          return compiled.then(function (module) {
            // The module comes compiled, so the glue's synchronous init is all it needs (the build
            // leaves out its asynchronous one, which fetches and compiles).
            var instantiating = performance.now();
            glue.initSync({ module: module });
            work(instantiating);
            return glue;
          });
        })
        .then(start, broken);
    }
  }

  // A reader the last decision left under the limit has nothing to hide: the article paints
  // first (its first contentful paint, or one second at most), then the widget loads. Starting at
  // once delayed Firefox's first paint, the article's LCP, by about 8 ms beyond what the
  // hand-written baseline script costs (`cargo xtask bench`). The widget starts at once when the
  // hint says the next article may be walled ("wall"; minus a time still to come, until which it
  // may be; or a time that has come, the moment a subscriber's token lapses), when the snippet
  // hides part of the article (its class is on <html>), in a tab not shown (which does not
  // paint), and when storage cannot be read.
  var paintFirst = false;
  try {
    var hint = w.localStorage.getItem("meterwall:next");
    var now = Date.now();
    paintFirst =
      (!hint || (hint > 0 ? hint > now : -hint <= now)) &&
      !pending.contains("meterwall-pending") &&
      d.visibilityState === "visible" &&
      PerformanceObserver.supportedEntryTypes.includes("paint");
  } catch (e) {
    // Storage blocked, or no Paint Timing: start at once.
  }
  if (paintFirst) {
    var started = false;
    var once = function () {
      if (!started) {
        started = true;
        go();
      }
    };
    new PerformanceObserver(function (list, observer) {
      if (list.getEntriesByName("first-contentful-paint").length) {
        observer.disconnect();
        once();
      }
    }).observe({ type: "paint", buffered: true });
    setTimeout(once, 1000);
  } else {
    go();
  }
})();
