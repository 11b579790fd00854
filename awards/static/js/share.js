// A share box (templates/_share.html): the "Copy link" button, shown only when the page can
// copy. Without JavaScript the link stays in its read-only field, ready to be selected.
(function () {
  "use strict";

  function start() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) { return; }
      var status = button.parentElement.querySelector("[data-copy-status]");
      var done = function () {
        if (status) { status.textContent = button.getAttribute("data-copied") || ""; }
      };
      var byHand = function () {
        field.select();
        if (document.execCommand && document.execCommand("copy")) { done(); }
      };
      button.hidden = false;
      button.addEventListener("click", function () {
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(field.value).then(done, byHand);
        } else {
          byHand();
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
