// The public stage's pages work without this file: a vote is a form POST, a share link a plain
// link. With it:
// - a vote form is sent once: the second click of a double click is ignored (the server counts
//   a vote once anyway; this only spares the voter a second page load);
// - a vote on the candidates' list is sent in the background: the card shows "Your vote" and
//   the category says whom the voter chose, without a page load or a jump;
// (The share box's "Copy link" is js/share.js, shared with the winners' pages.)
(function () {
  "use strict";

  function busy(form, on) {
    form.querySelectorAll("button[type=submit]").forEach(function (b) {
      if (on) { b.setAttribute("aria-busy", "true"); } else { b.removeAttribute("aria-busy"); }
    });
  }

  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      busy(form, true);
      if (form.hasAttribute("data-vote") && window.fetch && window.FormData) {
        event.preventDefault();
        voteInBackground(form);
      }
    });
  });

  // ``others``: what the server says the category's other entries now offer ("move", or
  // nothing when the vote cannot change); the chosen entry offers nothing.
  function showChoice(card, others) {
    var section = card.closest("[data-category]");
    if (!section) { return; }
    section.querySelectorAll(".candidate").forEach(function (other) {
      var chosen = other === card;
      other.classList.toggle("is-chosen", chosen);
      var badge = other.querySelector("[data-chosen-badge]");
      if (badge) { badge.hidden = !chosen; }
      var form = other.querySelector("form[data-vote]");
      if (!form) { return; }
      if (chosen || others !== "move") {
        form.remove();
      } else {
        var button = form.querySelector("button[type=submit]");
        if (button && section.dataset.moveLabel) { button.textContent = section.dataset.moveLabel; }
      }
    });
    var status = section.querySelector("[data-vote-status]");
    if (status) {
      status.textContent = card.dataset.votedText || "";
      status.classList.add("notice-ok");
      status.classList.remove("notice-warn");
      status.setAttribute("tabindex", "-1");
      status.focus({ preventScroll: true });
    }
  }

  function showProblem(form, message) {
    var section = form.closest("[data-category]");
    var status = section && section.querySelector("[data-vote-status]");
    if (status) {
      status.textContent = message;
      status.classList.remove("notice-ok");
      status.classList.add("notice-warn");
    }
    delete form.dataset.sent;
    busy(form, false);
  }

  function voteInBackground(form) {
    var card = form.closest(".candidate");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      if (response.status === 401) {
        // Not confirmed any more (another tab forgot the address): the page way leads there.
        form.submit();
        return null;
      }
      return response.json().then(function (answer) {
        if (answer.ok && card) {
          showChoice(card, answer.others);
        } else {
          showProblem(form, answer.message || "");
        }
      });
    }).catch(function () {
      form.submit(); // the network or the answer failed: send it the ordinary way
    });
  }
})();
