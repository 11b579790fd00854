// The authors question without a round trip: "add another author", "remove", "move up" and
// "move down" act on the page and the rows are renumbered, so the form posts them in their new
// order. Without this script the same buttons save the form and the server does it.
(function () {
  "use strict";

  function rowsOf(box) {
    return Array.prototype.slice.call(box.querySelectorAll("[data-author-row]"));
  }

  function base(box) {
    return box.querySelector("[data-authors-count]").name.replace(/-count$/, "");
  }

  function renumber(box) {
    var name = base(box);
    var rows = rowsOf(box);
    rows.forEach(function (row, i) {
      row.querySelectorAll("[data-key]").forEach(function (input) {
        var id = name + "-" + i + "-" + input.getAttribute("data-key");
        input.name = id;
        input.id = id;
      });
      row.querySelectorAll("[data-label-for]").forEach(function (label) {
        label.htmlFor = name + "-" + i + "-" + label.getAttribute("data-label-for");
      });
      // "Author 2" in any language: only the number changes.
      var legend = row.querySelector(".author-number");
      legend.textContent = legend.textContent.replace(/\d+/, String(i + 1));
      row.querySelectorAll("[data-author-action]").forEach(function (button) {
        button.value = String(i);
        var hidden = button.querySelector(".visually-hidden");
        if (hidden) { hidden.textContent = " " + legend.textContent; }
        var action = button.getAttribute("data-author-action");
        if (action === "up") { button.disabled = i === 0; }
        if (action === "down") { button.disabled = i === rows.length - 1; }
      });
    });
    box.querySelector("[data-authors-count]").value = String(rows.length);
    var add = box.querySelector('[data-author-action="add"]');
    if (add) { add.hidden = rows.length >= Number(box.getAttribute("data-max") || 1); }
  }

  function blank(row) {
    var copy = row.cloneNode(true);
    copy.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    copy.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
    return copy;
  }

  function act(box, button) {
    var action = button.getAttribute("data-author-action");
    var list = box.querySelector("[data-authors-rows]");
    var rows = rowsOf(box);
    var row = button.closest("[data-author-row]");
    var focus = null;
    if (action === "add") {
      if (rows.length >= Number(box.getAttribute("data-max") || 1)) { return; }
      var added = blank(rows[rows.length - 1]);
      list.appendChild(added);
      focus = added.querySelector("input");
    } else if (action === "remove") {
      var next = row.nextElementSibling || row.previousElementSibling;
      if (rows.length === 1) {
        next = blank(row);
        list.appendChild(next);
      }
      list.removeChild(row);
      focus = next.querySelector("input");
    } else if (action === "up" && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
      focus = button;
    } else if (action === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
      focus = button;
    }
    renumber(box);
    if (focus) {
      if (focus.disabled) { focus = row.querySelector("input"); }
      focus.focus();
    }
  }

  document.querySelectorAll("[data-authors]").forEach(function (box) {
    box.addEventListener("click", function (event) {
      var button = event.target.closest("[data-author-action]");
      if (!button || !box.contains(button)) { return; }
      event.preventDefault();
      act(box, button);
    });
    renumber(box);
  });
})();
