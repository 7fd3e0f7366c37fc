// dedup's page: send each form with the namespace and API key as headers
// (never in the body, never in a cookie), and show the answer in place.
// Without this script the forms post the same fields and the server answers
// with the whole page.
"use strict";
(function () {
  function field(id) { var el = document.getElementById(id); return el ? el.value.trim() : ""; }

  function send(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    // the form's own fields are named id and action: read its attributes, not its properties
    if (form.getAttribute("id") !== "ask") {  // a small form of the answer: the page's namespace and key still apply
      data.set("namespace", field("namespace"));
    }
    data.delete("key");
    var headers = {};
    if (field("key")) headers["X-API-Key"] = field("key");
    if (field("namespace")) headers["X-Dedup-Namespace"] = field("namespace");
    var result = document.getElementById("result");
    result.setAttribute("aria-busy", "true");
    return fetch(form.getAttribute("action") || "/", { method: "POST", headers: headers, body: new URLSearchParams(data), credentials: "omit" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var got = new DOMParser().parseFromString(html, "text/html").getElementById("result");
        result.replaceChildren.apply(result, got ? Array.from(got.childNodes) : []);
        result.removeAttribute("aria-busy");
        result.dataset.loaded = String(Date.now());
      });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || (form.getAttribute("method") || "").toLowerCase() !== "post") return;
    ev.preventDefault();
    send(form, ev.submitter).catch(function (err) {
      document.getElementById("result").textContent = "request failed: " + err;
    });
  });

  // hovering a passage lights up its counterpart in the other text
  document.addEventListener("mouseover", function (ev) {
    var m = ev.target.closest && ev.target.closest("mark.match");
    document.querySelectorAll("mark.hot").forEach(function (x) { x.classList.remove("hot"); });
    if (!m) return;
    var dup = m.closest(".dup") || document;
    dup.querySelectorAll('mark.match[data-p="' + m.dataset.p + '"]').forEach(function (x) { x.classList.add("hot"); });
  });
})();
