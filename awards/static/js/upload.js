// Upload progress for forms marked data-upload-progress. Progressive enhancement: without this
// script (or without files chosen) the form posts normally. With files, the same request is
// sent by XHR so the upload can be measured, and the server's answer replaces the page just as
// a normal submission would.
(function () {
  "use strict";

  function hasFiles(form) {
    return Array.prototype.some.call(form.querySelectorAll('input[type="file"]'), function (input) {
      return input.files && input.files.length > 0;
    });
  }

  function statusBox(form) {
    var box = form.querySelector(".upload-status");
    if (!box) {
      box = document.createElement("div");
      box.className = "upload-status";
      box.setAttribute("role", "status");
      var label = document.createElement("span");
      label.className = "upload-label";
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.id = "upload-progress";
      label.id = "upload-progress-label";
      bar.setAttribute("aria-labelledby", "upload-progress-label");
      box.appendChild(label);
      box.appendChild(bar);
      var actions = form.querySelector(".form-actions") || form.lastElementChild;
      form.insertBefore(box, actions);
    }
    return box;
  }

  function show(form, percent) {
    var box = statusBox(form);
    var template = form.getAttribute("data-upload-text") || "{percent}%";
    box.querySelector("progress").value = percent;
    box.querySelector(".upload-label").textContent = template.replace("{percent}", String(percent));
  }

  function replacePage(xhr) {
    if (xhr.responseURL) {
      history.replaceState(null, "", xhr.responseURL);
    }
    document.open();
    document.write(xhr.responseText);
    document.close();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute("data-upload-progress") || !hasFiles(form)
        || !window.FormData || !window.XMLHttpRequest) {
      return;
    }
    event.preventDefault();
    var submitter = event.submitter;
    var data = new FormData(form);
    if (submitter && submitter.name) {
      data.append(submitter.name, submitter.value);
    }
    var action = (submitter && submitter.hasAttribute("formaction")) ? submitter.formAction : form.action;
    var buttons = form.querySelectorAll("button, input[type=submit]");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    form.setAttribute("aria-busy", "true");
    show(form, 0);

    var xhr = new XMLHttpRequest();
    xhr.open("POST", action);
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { show(form, Math.round(e.loaded / e.total * 100)); }
    });
    xhr.addEventListener("load", function () { replacePage(xhr); });
    xhr.addEventListener("error", function () {
      // The network failed: fall back to the ordinary submission, which shows the browser's error.
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
      form.removeAttribute("data-upload-progress");
      if (submitter && form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); }
    });
    xhr.send(data);
  });
})();
