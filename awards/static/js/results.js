// A winner's page: the "Copy link" button (shown only when the page can copy; without
// JavaScript the link stays in its read-only field, ready to be selected).
(function () {
  "use strict";

  function start() {
    var button = document.querySelector("[data-copy-link]");
    var field = document.querySelector("[data-share-url]");
    var status = document.querySelector("[data-copy-status]");
    if (!button || !field) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () {
        if (status) { status.textContent = status.getAttribute("data-copied") || ""; }
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          field.select();
          if (document.execCommand("copy")) { done(); }
        });
      } else {
        field.select();
        if (document.execCommand("copy")) { done(); }
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
