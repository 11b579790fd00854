// Screening list: one checkbox ticks every entry of the page for the bulk decision, and a live
// count says how many are ticked. Without JavaScript the bar stays hidden and each entry is
// ticked on its own; the form is the same.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("screening-bulk");
  var bar = document.getElementById("select-all-bar");
  var all = document.getElementById("select-all");
  var count = document.getElementById("selected-count");
  if (!form || !bar || !all || !count) { return; }
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[type="checkbox"][name="selected"]'));
  if (!boxes.length) { return; }

  function update() {
    var ticked = boxes.filter(function (box) { return box.checked; }).length;
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
    count.textContent = ticked ? count.getAttribute("data-template").replace("{n}", String(ticked)) : "";
  }

  bar.hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
    update();
  });
  boxes.forEach(function (box) { box.addEventListener("change", update); });
  update();
});
