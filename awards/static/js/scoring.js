// Live weighted total on the score sheet. The server computes the stored total on every save;
// this only previews it, and shows nothing until every criterion has a valid score.
(function () {
  "use strict";
  var TOLERANCE = 1e-9;

  function parse(text) {
    text = (text || "").trim().replace(",", ".");
    if (text === "" || !/^[-+]?(\d+\.?\d*|\.\d+)$/.test(text)) { return null; }
    return parseFloat(text);
  }

  function valid(value, input) {
    var min = parseFloat(input.dataset.min), max = parseFloat(input.dataset.max);
    var step = parseFloat(input.dataset.step);
    var tol = TOLERANCE * Math.max(1, Math.abs(min), Math.abs(max));
    if (value < min - tol || value > max + tol) { return false; }
    if (step > 0) {
      var nearest = min + Math.round((value - min) / step) * step;
      if (Math.abs(value - nearest) > TOLERANCE * Math.max(1, Math.abs(value), step)) { return false; }
    }
    return true;
  }

  function format(value, locale) {
    try {
      return new Intl.NumberFormat(locale, { maximumFractionDigits: 3 }).format(value);
    } catch (e) {
      return String(Math.round(value * 1000) / 1000);
    }
  }

  function update(form, output) {
    var inputs = form.querySelectorAll(".score-input");
    var weighted = 0, weights = 0, complete = inputs.length > 0;
    inputs.forEach(function (input) {
      var value = parse(input.value);
      if (value === null || !valid(value, input)) { complete = false; return; }
      var weight = parseFloat(input.dataset.weight);
      weighted += weight * value;
      weights += weight;
    });
    if (!complete || (form.dataset.method === "mean" && weights === 0)) {
      output.textContent = output.dataset.empty || "—";
      return;
    }
    var total = form.dataset.method === "mean" ? weighted / weights : weighted;
    output.textContent = format(total, document.documentElement.lang || undefined);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("score-sheet");
    var output = document.getElementById("live-total");
    if (!form || !output) { return; }
    form.addEventListener("input", function () { update(form, output); });
    update(form, output);
  });
})();

// Keyboard scoring: ↑/↓ change a score by one step within its scale, Home/End give the lowest
// and the highest; Ctrl+Enter saves and goes on to the next entry (the page lists these keys).
(function () {
  "use strict";

  function decimals(step) {
    var text = String(step);
    return text.indexOf(".") < 0 ? 0 : text.length - text.indexOf(".") - 1;
  }

  function stepScore(input, key) {
    var min = parseFloat(input.dataset.min), max = parseFloat(input.dataset.max);
    var step = parseFloat(input.dataset.step) || 1;
    var current = parseFloat((input.value || "").trim().replace(",", "."));
    var next;
    if (key === "Home") { next = min; }
    else if (key === "End") { next = max; }
    else if (isNaN(current)) { next = key === "ArrowUp" ? min : max; }
    else {
      var index = Math.round((current - min) / step) + (key === "ArrowUp" ? 1 : -1);
      next = min + index * step;
    }
    next = Math.min(max, Math.max(min, next));
    var places = decimals(step);
    input.value = places ? String(parseFloat(next.toFixed(places))) : String(Math.round(next));
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("score-sheet");
    if (!form) { return; }
    form.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        var next = document.getElementById("save-next");
        if (next) { event.preventDefault(); form.requestSubmit(next); }
        return;
      }
      if (!target.classList || !target.classList.contains("score-input") || target.disabled) { return; }
      if (["ArrowUp", "ArrowDown", "Home", "End"].indexOf(event.key) < 0) { return; }
      if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
      event.preventDefault();
      stepScore(target, event.key);
    });
  });
})();

// The file viewer beside the score sheet: "View" shows a PDF or an image of the entry in the
// panel instead of a new tab (without the script the link opens it in a new tab).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var viewer = document.getElementById("file-viewer");
    if (!viewer) { return; }
    var frame = document.getElementById("viewer-frame");
    var image = document.getElementById("viewer-image");
    document.querySelectorAll("a.view-file").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (event.ctrlKey || event.metaKey || event.shiftKey) { return; }
        event.preventDefault();
        var name = link.dataset.name;
        document.getElementById("viewer-name").textContent = name;
        viewer.querySelectorAll(".viewer-current").forEach(function (el) { el.textContent = name; });
        document.getElementById("viewer-open").href = link.href;
        document.getElementById("viewer-download").href = link.dataset.download;
        if (link.dataset.kind === "pdf") {
          image.hidden = true; image.removeAttribute("src");
          frame.title = name; frame.src = link.href; frame.hidden = false;
        } else {
          frame.hidden = true; frame.removeAttribute("src");
          image.alt = (viewer.dataset.labelImage || "__NAME__").replace("__NAME__", name);
          image.src = link.href; image.hidden = false;
        }
        viewer.scrollIntoView({ block: "nearest" });
      });
    });
  });
})();

// Autosave: the score sheet saves a draft a moment after the juror stops typing, through the
// same save as the buttons (version check included). What is not saved yet is kept on the
// device (localStorage), so a lost connection or a closed tab loses nothing; it is sent when
// the connection comes back, or put back into the sheet when the page opens again.
(function () {
  "use strict";
  var DELAY = 1200;
  var SENT = "awards-review-sent";

  // After a button's post: the next page shows a success message when the review was saved,
  // and then the copy kept on this device is no longer needed.
  document.addEventListener("DOMContentLoaded", function () {
    var sent = null;
    try { sent = window.sessionStorage.getItem(SENT); window.sessionStorage.removeItem(SENT); }
    catch (e) { sent = null; }
    if (sent && document.querySelector(".flash-success")) {
      try { window.localStorage.removeItem(sent); } catch (e) { /* nothing kept */ }
    }
  });

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("score-sheet");
    var status = document.getElementById("autosave-status");
    if (!form || !status || !form.dataset.autosave) { return; }
    var store = storage();
    var key = "awards-review-draft:" + form.dataset.autosave;
    var version = form.querySelector('input[name="version"]');
    var timer = null, inflight = false, dirty = false, stopped = false, waiting = null;
    var restoring = false;

    function fields() {
      return Array.prototype.filter.call(form.elements, function (el) {
        return el.name && (el.classList.contains("score-input") || el.tagName === "TEXTAREA");
      });
    }

    function values() {
      var out = {};
      fields().forEach(function (el) { out[el.name] = el.value; });
      return out;
    }

    function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

    function say(kind, text) {
      status.textContent = text || status.dataset[kind] || "";
      status.dataset.state = kind;
      status.className = "autosave-status autosave-" + kind;
    }

    function keep() {
      if (!store) { return; }
      try {
        store.setItem(key, JSON.stringify({ version: version.value, values: values() }));
      } catch (e) { /* storage full or refused: the server save still runs */ }
    }

    function forget() { if (store) { store.removeItem(key); } }

    function schedule(delay) {
      if (stopped) { return; }
      clearTimeout(timer);
      timer = setTimeout(save, delay === undefined ? DELAY : delay);
    }

    function finished() {
      inflight = false;
      if (waiting) { var button = waiting; waiting = null; form.requestSubmit(button); }
    }

    function save() {
      if (stopped || inflight) { return; }
      if (!dirty) { return; }
      if (navigator.onLine === false) { say("offline"); return; }
      var sent = values();
      var body = new FormData(form);
      body.set("action", "draft");
      inflight = true;
      dirty = false;
      say("saving");
      fetch(form.getAttribute("action"), { method: "POST", body: body, credentials: "same-origin",
                           headers: { "Accept": "application/json" } })
        .then(function (response) {
          return response.json().then(function (data) { return [response.status, data]; });
        })
        .then(function (result) {
          var code = result[0], data = result[1];
          if (code === 200 && data.status === "saved") {
            version.value = String(data.version);
            if (same(sent, values()) && !dirty) { forget(); say("saved"); }
            else { dirty = true; keep(); schedule(); }
          } else if (data.status === "stale") {
            stopped = true; keep(); say("stale");
          } else if (data.status === "invalid") {
            keep(); say("failed");
          } else {
            stopped = true; keep(); say("closed", data.message);
          }
          finished();
        })
        .catch(function () {
          // No answer: offline or the server is away. Keep it and try again on reconnect.
          dirty = true; keep(); say("offline"); finished();
        });
    }

    // What a previous visit on this device typed and could not save.
    if (store) {
      var saved = null;
      try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
      if (saved && saved.values && !same(saved.values, values())) {
        if (saved.version === version.value) {
          fields().forEach(function (el) {
            if (Object.prototype.hasOwnProperty.call(saved.values, el.name)) { el.value = saved.values[el.name]; }
          });
          restoring = true;
          form.dispatchEvent(new Event("input", { bubbles: true }));
          restoring = false;
          say("restored");
          dirty = true;
          schedule(0);
        } else {
          forget();  // saved meanwhile from elsewhere: what the page shows is newer
        }
      } else if (saved) { forget(); }
    }

    form.addEventListener("input", function (event) {
      if (restoring) { return; }
      dirty = true;
      keep();
      if (navigator.onLine === false) { say("offline"); return; }
      schedule();
    });
    form.addEventListener("submit", function (event) {
      clearTimeout(timer);
      if (inflight) {
        // A save is on its way: send the button's post after it, with its version.
        event.preventDefault();
        waiting = event.submitter || null;
        return;
      }
      stopped = true;
      // The page after this post says whether it was saved (see below).
      try { window.sessionStorage.setItem(SENT, key); } catch (e) { /* private mode */ }
    });
    window.addEventListener("offline", function () { say("offline"); });
    window.addEventListener("online", function () { if (dirty) { schedule(0); } });
    window.addEventListener("storage", function (event) {
      if (event.key === key && event.newValue && !stopped) {
        try {
          var other = JSON.parse(event.newValue);
          if (other && other.values && !same(other.values, values())) { say("stale"); }
        } catch (e) { /* not ours */ }
      }
    });
  });
})();
