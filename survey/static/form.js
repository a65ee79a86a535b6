// Progressive enhancement of the checklist form, which works without it (SPEC §7): show_if rules,
// "What went wrong?" boxes only when needed, progress, focus on the error summary, no double send.
(function () {
  "use strict";
  var form = document.getElementById("checklist");
  if (!form) return;
  form.classList.add("js");
  var rules = [].map.call(form.querySelectorAll("[data-show-if]"), function (el) {
    return { el: el, rule: JSON.parse(el.getAttribute("data-show-if")) };
  });
  var onfail = form.querySelectorAll(".onfail[data-full]");
  var questions = form.querySelectorAll(".q[id^='q-']");
  var prog = document.getElementById("prog"), progtxt = document.getElementById("progtxt");

  function given(el) {
    if (el.type === "radio" || el.type === "checkbox") return el.checked;
    return el.value.trim() !== "";
  }
  // A question's answers as the server reads them; none while the question is hidden.
  function answer(key) {
    var els = form.querySelectorAll('[name="q_' + key + '"]'), out = [];
    for (var i = 0; i < els.length; i++) {
      if (els[i].closest("[hidden]")) return [];
      if (given(els[i])) out.push(els[i].value.trim());
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
    var i;
    // Rules name earlier questions only, so one pass in page order settles chains.
    for (i = 0; i < rules.length; i++) rules[i].el.hidden = !holds(rules[i].rule);
    // Answers to hidden questions are not sent (the server would drop them anyway).
    var controls = form.querySelectorAll("[data-show-if] input, [data-show-if] textarea");
    for (i = 0; i < controls.length; i++) controls[i].disabled = !!controls[i].closest("[data-show-if][hidden]");
    for (i = 0; i < onfail.length; i++) {
      var box = onfail[i], got = answer(box.closest(".q").id.slice(2));
      var full = box.getAttribute("data-full").split(" ").concat("na");
      var short = got.some(function (v) { return full.indexOf(v) < 0; });
      // Never hide a box holding text or a message: the shopper must see what is sent.
      box.hidden = !(short || box.querySelector("textarea").value.trim() || box.querySelector(".err"));
    }
    var shown = 0, done = 0;
    for (i = 0; i < questions.length; i++) {
      var q = questions[i], key = q.id.slice(2);
      if (q.closest("[hidden]")) continue;
      shown++;
      var els = q.querySelectorAll('[name="q_' + key + '"],[name="q_' + key + '__na"],[name="q_' + key + '__upload"]');
      if ([].some.call(els, given)) done++;
    }
    if (prog) { prog.max = shown; prog.value = done; }
    if (progtxt) progtxt.textContent = done + " of " + shown + " answered";
  }
  function changed() {
    var first = form.elements.first_answer_at;
    if (first && !first.value) first.value = new Date().toISOString();
    apply();
  }
  form.addEventListener("change", changed);
  form.addEventListener("input", apply);
  form.addEventListener("submit", function (e) {
    if (form.dataset.sent) { e.preventDefault(); return; }
    apply(); // answers restored by the browser fire no event: settle what is sent on what is shown
    form.dataset.sent = "1";
    var btn = form.querySelector("button[type=submit]");
    if (btn) { btn.dataset.label = btn.textContent; btn.textContent = "Sending…"; }
  });
  // Coming back to the page (back button, bfcache) must allow sending again.
  window.addEventListener("pageshow", function () {
    delete form.dataset.sent;
    apply();
    var btn = form.querySelector("button[type=submit]");
    if (btn && btn.dataset.label) btn.textContent = btn.dataset.label;
  });

  var summary = document.getElementById("summary");
  if (summary) {
    summary.focus();
    // A link to a question moves focus to its first answer, not just the scroll position.
    summary.addEventListener("click", function (e) {
      var link = e.target.closest("a[href^='#']");
      var target = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      var control = target.matches("input,textarea") ? target
        : target.querySelector("input:not([type=hidden]):not(:disabled),textarea:not(:disabled)");
      if (!control) return;
      e.preventDefault();
      target.scrollIntoView();
      control.focus({ preventScroll: true });
    });
  }
  apply();
})();
