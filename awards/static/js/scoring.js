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
