// Upload progress for forms marked data-upload-progress. Progressive enhancement: without this
// script (or without files chosen) the form posts normally. With files, the same request is
// sent by XHR so the upload can be measured, and the server's answer replaces the page just as
// a normal submission would.
//
// Before sending, each file input that carries its limits (data-max-bytes, data-max-count,
// data-attached, data-extensions, data-mimes and the messages data-msg-size, -type, -count,
// written by the server in the page's language) checks the chosen files: a file too large or
// of another type is told next to its field at once, and the form is not sent. The server
// checks again, by content.
(function () {
  "use strict";

  function listOf(input, name) {
    return (input.getAttribute(name) || "").split(",").filter(Boolean);
  }

  function fileProblem(input) {
    var files = input.files || [];
    if (!files.length || !input.hasAttribute("data-max-bytes")) { return ""; }
    var maxBytes = Number(input.getAttribute("data-max-bytes"));
    var maxCount = Number(input.getAttribute("data-max-count") || "1");
    var attached = Number(input.getAttribute("data-attached") || "0");
    // A one-file field replaces its file; others add to those attached.
    if (maxCount > 1 && files.length + attached > maxCount) {
      return input.getAttribute("data-msg-count");
    }
    var extensions = listOf(input, "data-extensions");
    var mimes = listOf(input, "data-mimes");
    for (var i = 0; i < files.length; i++) {
      var file = files[i];
      var name = file.name.toLowerCase();
      var typeOk = !extensions.length || mimes.indexOf(file.type) >= 0
        || extensions.some(function (ext) { return name.slice(-ext.length) === ext; });
      if (!typeOk) { return input.getAttribute("data-msg-type").replace("{name}", file.name); }
      if (file.size > maxBytes) {
        return input.getAttribute("data-msg-size").replace("{name}", file.name);
      }
    }
    return "";
  }

  function tell(input, message) {
    var id = input.id + "-check";
    var box = document.getElementById(id);
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (x) {
      return x && x !== id;
    });
    if (!message) {
      if (box) { box.parentNode.removeChild(box); }
      input.setAttribute("aria-describedby", described.join(" "));
      if (!input.closest(".has-error")) { input.removeAttribute("aria-invalid"); }
      return;
    }
    if (!box) {
      box = document.createElement("p");
      box.className = "error file-check";
      box.id = id;
      box.setAttribute("role", "alert");
      input.parentNode.insertBefore(box, input.nextSibling);
    }
    box.textContent = message;
    described.push(id);
    input.setAttribute("aria-describedby", described.join(" "));
    input.setAttribute("aria-invalid", "true");
  }

  function checkAll(form) {
    var first = null;
    var total = 0;
    Array.prototype.forEach.call(form.querySelectorAll('input[type="file"][data-max-bytes]'), function (input) {
      var problem = fileProblem(input);
      tell(input, problem);
      if (problem && !first) { first = input; }
      Array.prototype.forEach.call(input.files || [], function (file) { total += file.size; });
    });
    // Each file fits its field, but together more than the site takes in one request.
    var limit = Number(form.getAttribute("data-max-request") || "0");
    var summary = form.querySelector(".request-check");
    if (!first && limit && total > limit) {
      if (!summary) {
        summary = document.createElement("p");
        summary.className = "error request-check";
        summary.setAttribute("role", "alert");
        summary.tabIndex = -1;
        var actions = form.querySelector(".form-actions") || form.lastElementChild;
        form.insertBefore(summary, actions);
      }
      summary.textContent = form.getAttribute("data-msg-request");
      first = summary;
    } else if (summary) {
      summary.parentNode.removeChild(summary);
    }
    return first;
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches('input[type="file"][data-max-bytes]')) {
      tell(input, fileProblem(input));
    }
  });

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

  function replacePage(xhr, form) {
    // A refusal answers at the address posted to, which may take POST only (…/submit):
    // the address bar shows the form's own address, so a reload opens the form again.
    var url = xhr.status >= 400 ? form.action : xhr.responseURL;
    if (url) {
      history.replaceState(null, "", url);
    }
    document.open();
    document.write(xhr.responseText);
    document.close();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute("data-upload-progress") || !hasFiles(form)) {
      return;
    }
    var wrong = checkAll(form);
    if (wrong) {
      event.preventDefault();
      wrong.focus();
      return;
    }
    if (!window.FormData || !window.XMLHttpRequest) {
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
    xhr.addEventListener("load", function () { replacePage(xhr, form); });
    xhr.addEventListener("error", function () {
      // The network failed: fall back to the ordinary submission, which shows the browser's error.
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
      form.removeAttribute("data-upload-progress");
      if (submitter && form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); }
    });
    xhr.send(data);
  });
})();
