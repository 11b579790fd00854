// Keeps the server-rendered "N days M hours left" current while the page stays open.
// Progressive enhancement only: the text from the server is right when the page loads.
(function () {
  "use strict";

  function unit(lang, value, name) {
    try {
      return new Intl.NumberFormat(lang, { style: "unit", unit: name, unitDisplay: "long" })
        .format(value);
    } catch (e) {
      return value + " " + name + (value === 1 ? "" : "s");
    }
  }

  function render(el) {
    var deadline = Date.parse(el.getAttribute("data-deadline"));
    if (isNaN(deadline)) { return false; }
    var lang = el.getAttribute("data-lang") || document.documentElement.lang || "en";
    var seconds = Math.floor((deadline - Date.now()) / 1000);
    if (seconds < 0) {
      el.textContent = el.getAttribute("data-closed") || "";
      return false;
    }
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var parts;
    if (days > 0) {
      parts = [unit(lang, days, "day"), unit(lang, hours, "hour")];
    } else if (hours > 0) {
      parts = [unit(lang, hours, "hour"), unit(lang, minutes, "minute")];
    } else {
      parts = [unit(lang, minutes, "minute")];
    }
    var template = el.getAttribute("data-template") || "{time}";
    el.textContent = template.replace("{time}", parts.join(" "));
    return true;
  }

  function start() {
    var items = Array.prototype.slice.call(document.querySelectorAll(".countdown[data-deadline]"));
    if (!items.length) { return; }
    var timer = setInterval(function () {
      items = items.filter(render);
      if (!items.length) { clearInterval(timer); }
    }, 30000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
