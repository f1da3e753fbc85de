/*! meterwall loader: paste as a classic <script async> tag; it loads the wasm widget. */
(function () {
  "use strict";
  var w = window;
  var d = document;
  // document.currentScript is null inside module scripts and after the first run of a script,
  // so the loader, a classic script, reads it synchronously here.
  var script = d.currentScript;
  var queue = w.meterwall = w.meterwall || [];
  if (queue.version) return; // pasted twice: the first copy runs the page

  function emit(name, detail) {
    d.dispatchEvent(new CustomEvent("meterwall:" + name, { detail: detail }));
  }
  function fail(message) {
    console.error("[meterwall] " + message);
    emit("error", { message: message });
  }

  var src = (script && script.src) || "";
  if (!src) return fail("the loader must be included with a <script src> tag");
  var glue = new URL("meterwall_wasm.js", src).href;
  var wasm = new URL("meterwall_wasm_bg.wasm", src).href;

  // Config layers, later ones winning: the JSON block, the script tag's data-* attributes, then
  // queued ["config", {...}] commands. The article element's own attributes are read by the widget.
  var layers = [];
  var block = d.getElementById("meterwall-config");
  if (block) {
    try {
      layers.push(JSON.parse(block.textContent));
    } catch (e) {
      fail("the JSON in <script id=\"meterwall-config\"> does not parse (" + e.message + "); it is ignored");
    }
  }
  var data = {};
  var set = script.dataset;
  for (var key in set) {
    // data-registered-limit arrives as registeredLimit and means registered.limit.
    var nested = /^registered([A-Z].*)$/.exec(key);
    if (nested) {
      data.registered = data.registered || {};
      data.registered[nested[1].charAt(0).toLowerCase() + nested[1].slice(1)] = set[key];
    } else {
      data[key] = set[key];
    }
  }
  layers.push(data);

  var pending = queue.slice();
  var rest = [];
  for (var i = 0; i < pending.length; i++) {
    var item = pending[i];
    if (item && item[0] === "config") layers.push(item[1]);
    else rest.push(item);
  }

  import(glue)
    .then(function (m) {
      return m.default({ module_or_path: wasm }).then(function () {
        return m;
      });
    })
    .then(function (m) {
      var api = {
        version: 1,
        mount: function (config) {
          return m.mount(config === undefined ? layers : layers.concat([config]));
        },
        why: m.why,
        reset: m.reset,
        push: function (item) {
          if (typeof item === "function") return item(api);
          var fn = item && api[item[0]];
          if (typeof fn !== "function") return fail("unknown command " + JSON.stringify(item && item[0]));
          return fn.apply(api, item.slice(1));
        },
        config: function (layer) {
          layers.push(layer);
        }
      };
      w.meterwall = api;
      try {
        api.mount();
      } catch (e) {
        // mount has logged the cause and fired meterwall:error; the article stays as the policy says.
      }
      for (var j = 0; j < rest.length; j++) api.push(rest[j]);
      emit("ready", { version: 1 });
    })
    .catch(function (e) {
      fail("the widget could not load (" + (e && e.message ? e.message : e) + "); the article stays readable");
    });
})();
