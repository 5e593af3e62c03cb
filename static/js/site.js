// Small enhancements only: every page works without this file.
(function () {
  "use strict";
  // Move focus to an error summary so screen-reader and keyboard users hear it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  // A Sign button submits once; the server is idempotent anyway.
  document.querySelectorAll("button[data-once]").forEach(function (b) {
    b.form.addEventListener("submit", function () {
      setTimeout(function () { b.disabled = true; b.textContent = b.getAttribute("data-once") || "Signing…"; }, 0);
    });
  });
  // Copy buttons for copy-ready examples (code blocks in the guidance).
  if (navigator.clipboard) {
    document.querySelectorAll(".prose pre").forEach(function (pre) {
      var btn = document.createElement("button");
      btn.type = "button"; btn.className = "secondary copy"; btn.textContent = "Copy this text";
      btn.addEventListener("click", function () {
        navigator.clipboard.writeText(pre.innerText.trim()).then(function () { btn.textContent = "Copied"; });
      });
      pre.insertAdjacentElement("afterend", btn);
    });
  }
})();
