// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var submitter = event.submitter;
  // A two-step confirm panel (the confirm_button macro) has already asked the question.
  if (form.closest("details.confirm-action")) { return; }
  var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }

  // A table wider than the screen scrolls sideways inside its wrapper; the wrapper must then be
  // reachable by keyboard (arrow keys scroll it) and announce what it holds.
  function scrollableTables() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-wrap"), function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        if (!wrap.hasAttribute("tabindex")) {
          wrap.setAttribute("tabindex", "0");
          wrap.setAttribute("role", "region");
          var caption = wrap.querySelector("caption");
          var heading = wrap.closest("section") && wrap.closest("section").querySelector("h2");
          var name = (caption || heading || document.querySelector("h1") || {}).textContent;
          if (name) { wrap.setAttribute("aria-label", name.trim()); }
        }
      } else if (wrap.getAttribute("role") === "region") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    });
  }
  scrollableTables();
  window.addEventListener("resize", scrollableTables);

  // Escape closes an open confirm panel and puts focus back on its button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var open = document.activeElement && document.activeElement.closest("details.confirm-action[open]");
    if (open) {
      open.open = false;
      open.querySelector("summary").focus();
    }
  });

  // The main navigation folds into a menu button on narrow screens; without JavaScript it
  // simply stays unfolded.
  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("site-nav");
  if (toggle && nav) {
    toggle.hidden = false;
    document.documentElement.classList.add("js-nav");
    toggle.addEventListener("click", function () {
      var expanded = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", expanded ? "false" : "true");
      nav.classList.toggle("is-open", !expanded);
    });
  }
});
