// Progressive enhancement of the checklist: show_if, progress, first-answer time, no double send.
(function () {
  var form = document.getElementById("checklist");
  if (!form) return;
  var summary = document.getElementById("summary");
  if (summary) summary.focus();
  var rules = form.querySelectorAll("[data-show-if]");
  function answer(key) {
    var els = form.querySelectorAll('[name="q_' + key + '"]'), out = [];
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (el.closest("[hidden]")) return [];
      if ((el.type === "radio" || el.type === "checkbox") ? el.checked : el.value.trim() !== "") out.push(el.value.trim());
    }
    return out;
  }
  function holds(rule) {
    var got = answer(rule.question);
    if (!got.length || got[0] === "na") return false;
    if (rule.above != null) return parseFloat(got[0].replace(",", ".")) > rule.above;
    if (rule.below != null) return parseFloat(got[0].replace(",", ".")) < rule.below;
    var want = (rule["in"] || [rule.equals]).map(String);
    return got.some(function (v) { return want.indexOf(v) >= 0; });
  }
  function apply() {
    // Rules refer only to earlier questions, so one pass in page order settles chains.
    for (var i = 0; i < rules.length; i++) {
      var el = rules[i], show = holds(JSON.parse(el.getAttribute("data-show-if")));
      el.hidden = !show;
      el.disabled = !show; // a disabled fieldset's answers are not sent
    }
    var qs = form.querySelectorAll(".q[id^='q-']"), n = 0, done = 0;
    for (var j = 0; j < qs.length; j++) {
      if (qs[j].closest("[hidden]")) continue;
      n++;
      var inputs = qs[j].querySelectorAll("input,textarea");
      for (var k = 0; k < inputs.length; k++) {
        var inp = inputs[k];
        if (inp.type === "hidden") continue;
        if ((inp.type === "radio" || inp.type === "checkbox") ? inp.checked : inp.value.trim() !== "") { done++; break; }
      }
    }
    var bar = document.getElementById("prog"), txt = document.getElementById("progtxt");
    if (bar) { bar.max = n; bar.value = done; bar.textContent = done + " of " + n; }
    if (txt) txt.textContent = done + " of " + n + " answered";
  }
  form.addEventListener("change", function () {
    var first = form.elements.first_answer_at;
    if (first && !first.value) first.value = new Date().toISOString();
    apply();
  });
  form.addEventListener("submit", function (e) {
    var btn = form.querySelector("button[type=submit]");
    if (form.dataset.sent) { e.preventDefault(); return; }
    form.dataset.sent = "1";
    if (btn) btn.textContent = "Sending…";
  });
  window.addEventListener("pageshow", function () { delete form.dataset.sent; });
  apply();
})();
