// Progressive enhancement of the checklist form, which works without it (SPEC §7): show_if rules,
// "What went wrong?" boxes only when needed, progress, focus on the error summary, no double send;
// on the shopper's own link also: answers kept on the phone and as a server draft, a send that
// waits on the phone while offline, a service worker, photos made smaller before upload.
(function () {
  "use strict";
  var path = location.pathname, KEY = "draft:" + path;
  // Storage full or off (private mode): the answers are kept in the page, and on the server.
  var ls = null, mem = null;
  try { ls = window.localStorage; } catch (e) { /* off */ }
  function read() { if (mem) return mem; try { return JSON.parse(ls.getItem(KEY)); } catch (e) { return null; } }
  function write(rec) { try { ls.setItem(KEY, JSON.stringify(rec)); mem = null; } catch (e) { mem = rec; } }
  function forget() { mem = null; try { ls.removeItem(KEY); } catch (e) { /* nothing kept */ } }

  // The one queued submission per link, in IndexedDB (it holds photos; the service worker reads it too).
  function outbox(mode, fn) {
    return new Promise(function (ok, no) {
      var open = indexedDB.open("shopper", 1);
      open.onupgradeneeded = function () { open.result.createObjectStore("outbox"); };
      open.onerror = function () { no(open.error); };
      open.onsuccess = function () {
        var db = open.result, tx = db.transaction("outbox", mode), rq = fn(tx.objectStore("outbox"));
        tx.oncomplete = function () { db.close(); ok(rq.result); };
        tx.onerror = tx.onabort = function () { db.close(); no(tx.error); };
      };
    });
  }

  if (document.querySelector("[data-received]")) {
    // It arrived: what this phone kept for the link is no longer needed.
    forget();
    if (window.indexedDB) outbox("readwrite", function (s) { return s.delete(path); }).catch(function () {});
    return;
  }
  var form = document.getElementById("checklist");
  if (!form) return;
  form.classList.add("js");
  // Read again after a repetition is added or removed.
  var rules, onfail, questions;
  function scan() {
    rules = [].map.call(form.querySelectorAll("[data-show-if]"), function (el) {
      return { el: el, rule: JSON.parse(el.getAttribute("data-show-if")) };
    });
    onfail = form.querySelectorAll(".onfail[data-full]");
    questions = form.querySelectorAll(".q[id^='q-']");
  }
  scan();
  var M = JSON.parse(form.getAttribute("data-m") || "{}");
  function words(key, v) {
    return (M[key] || "").replace(/\{(\w+)\}/g, function (_, k) { return typeof v[k] === "number" ? v[k].toLocaleString(lang) : v[k]; });
  }
  var lang = document.documentElement.lang || "en";
  // A repetition's number in its fields' names and ids: q_key-2, q-key-2, q_key-2__comment.
  var SUFFIX = /-\d+(?=__|"|\s|$)/g;
  var prog = document.getElementById("prog"), progtxt = document.getElementById("progtxt");
  var state = document.getElementById("state");
  var own = form.hasAttribute("data-draft");

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
  // An on_fail comment box is needed: its question's answer earns less than full marks.
  function short(box) {
    var got = answer(box.closest(".q").id.slice(2)), full = box.getAttribute("data-full").split(" ").concat("na");
    return got.some(function (v) { return full.indexOf(v) < 0; });
  }
  // Optional questions say so in their title.
  function required(q) { return !q.querySelector("legend .opt, .q>label .opt"); }
  function apply() {
    var i;
    // Rules name earlier questions only, so one pass in page order settles chains.
    for (i = 0; i < rules.length; i++) rules[i].el.hidden = !holds(rules[i].rule);
    // Answers to hidden questions are not sent (the server would drop them anyway).
    var controls = form.querySelectorAll("[data-show-if] input, [data-show-if] textarea");
    for (i = 0; i < controls.length; i++) controls[i].disabled = !!controls[i].closest("[data-show-if][hidden]");
    for (i = 0; i < onfail.length; i++) {
      var box = onfail[i];
      // Never hide a box holding text or a message: the shopper must see what is sent.
      box.hidden = !(short(box) || box.querySelector("textarea").value.trim() || box.querySelector(".err"));
    }
    // Required questions only ("12 of 20 required"); a question counts once it shows.
    var shown = 0, done = 0;
    for (i = 0; i < questions.length; i++) {
      var q = questions[i], key = q.id.slice(2);
      if (q.closest("[hidden]") || !required(q)) continue;
      shown++;
      var els = q.querySelectorAll('[name="q_' + key + '"],[name="q_' + key + '__na"],[name="q_' + key + '__upload"]');
      if ([].some.call(els, given)) done++;
    }
    if (prog) { prog.max = shown; prog.value = done; }
    if (progtxt) progtxt.textContent = progtxt.getAttribute("data-text").replace("{done}", done).replace("{total}", shown);
    // "Part 4 of 6" counts the parts that apply: a hidden part leaves no gap in the numbers.
    var parts = [].filter.call(form.querySelectorAll(".part[data-text]"), function (p) { return !p.closest("[hidden]"); });
    parts.forEach(function (p, n) { p.textContent = p.getAttribute("data-text").replace("{num}", n + 1).replace("{total}", parts.length); });
  }

  // ---- answers kept: on this phone at once, on the server a moment later
  function kept(el) {
    return el.name && el.type !== "file" && el.type !== "submit" && el.name !== "csrf_token" && el.name !== "idem";
  }
  // Hidden questions' answers are kept too: unhiding a question brings its answer back.
  function fields() {
    var out = {};
    [].forEach.call(form.elements, function (el) {
      if (!kept(el) || ((el.type === "radio" || el.type === "checkbox") && !el.checked) || el.value === "") return;
      (out[el.name] = out[el.name] || []).push(el.value);
    });
    return out;
  }
  function fill(f) {
    shape(f);
    [].forEach.call(form.elements, function (el) {
      if (!kept(el)) return;
      var v = f[el.name] || [];
      if (el.type === "radio" || el.type === "checkbox") el.checked = v.indexOf(el.value) >= 0;
      else el.value = v.length ? v[0] : "";
    });
  }
  var timer, busy, again;
  function keep() {
    if (!own) return;
    var rec = read() || {};
    write({ f: fields(), s: false, b: rec.b || "" });
    clearTimeout(timer);
    timer = setTimeout(sync, 1500);
  }
  function token() { return form.elements.csrf_token ? form.elements.csrf_token.value : ""; }
  // Send the kept answers as the server draft; one request at a time, so the last one wins.
  function sync(unload) {
    var rec = read();
    if (!own || !rec || rec.s || !window.fetch) return;
    if (busy) { again = true; return; }
    busy = true;
    var body = new URLSearchParams();
    Object.keys(rec.f).forEach(function (n) { rec.f[n].forEach(function (v) { body.append(n, v); }); });
    fetch(form.getAttribute("data-draft"), {
      method: "POST", body: body, credentials: "same-origin", keepalive: !!unload,
      // A page opened before HQ returned the visit carries no stamp: the server refuses its copy.
      headers: { "X-CSRFToken": token(), "X-Returned": form.getAttribute("data-returned") || "" }
    }).then(function (r) {
      // Sent from another phone meanwhile: show that it arrived.
      if (r.status === 409 || r.status === 400 || r.status === 410) return r.json().then(function (j) {
        if (j.state === "submitted") arrived();
        else if (state && j.error) state.textContent = j.error; // stale page, closed link: say why saving stopped
      });
      var now = read();
      if (r.status !== 204 || !now) return;
      now.b = r.headers.get("X-Draft-Saved") || now.b;
      if (JSON.stringify(now.f) === JSON.stringify(rec.f)) now.s = true;
      write(now);
    }).catch(function () { /* offline: kept here, sent with the next change or when back online */ })
      .then(function () { busy = false; if (again) { again = false; sync(); } });
  }
  if (own) {
    var mine = read(), server = form.getAttribute("data-saved") || "", fresh = form.hasAttribute("data-fresh");
    // A fresh page shows the server's draft; this phone's answers win unless another device
    // saved after this phone last did. A page shown again after sending shows what was sent.
    // A visit HQ returned opens with the answers as sent (data-returned): a copy this phone
    // kept from before the return, sent or not, must not cover them.
    var returned = form.getAttribute("data-returned") || "";
    var local = fresh && mine && mine.f && (!returned || (mine.b || "") >= returned) && (!mine.s || !server || mine.b >= server);
    if (local) fill(mine.f);
    if (!fresh || (local && !mine.s)) keep();
    else if (!local && server) write({ f: fields(), s: true, b: server });
    form.addEventListener("input", keep);
    document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") sync(true); });
    window.addEventListener("online", function () { sync(); flush(); });
    // Another tab sent the answers (it removed what this phone kept): show that they arrived.
    window.addEventListener("storage", function (e) {
      if (e.key === KEY && e.newValue === null && !leaving) { leaving = true; location.replace(path); }
    });
  }

  // ---- sending: through the outbox, so a lost network or a server fault loses nothing
  function say(what) {
    if (state) state.textContent = what ? state.getAttribute("data-" + what) : "";
  }
  var sending = false, retry, delay = 3000, shrinking = null;
  function post(entry) {
    var fd = new FormData();
    entry.fields.forEach(function (f) { if (f[2] != null) fd.append(f[0], f[1], f[2]); else fd.append(f[0], f[1]); });
    if (token()) fd.set("csrf_token", token()); // this page's token belongs to the current session
    // XMLHttpRequest, not fetch: only it reports the upload's progress (a photo on a slow network).
    return new Promise(function (ok) {
      var x = new XMLHttpRequest();
      x.open("POST", path);
      x.setRequestHeader("X-Outbox", "1"); // stored: 204, so the page itself shows the thank-you
      x.upload.onprogress = function (e) {
        if (e.lengthComputable && e.total > 1e5 && state) state.textContent = state.getAttribute("data-sending") + " " + Math.floor(100 * e.loaded / e.total) + " %";
      };
      // Stored now (204) or before (the "already received" page, redirected to); any other page has a message.
      x.onload = function () {
        var s = x.status;
        ok(s >= 500 || s === 408 || s === 429 ? "wait" : s === 204 || (s === 200 && /data-received/.test(x.responseText)) ? "done" : "check");
      };
      x.onerror = x.ontimeout = x.onabort = function () { ok("wait"); };
      x.send(fd);
    });
  }
  var leaving = false;
  function arrived() {
    if (leaving) return;
    leaving = true;
    forget();
    location.replace(path); // the page that says it arrived, with the reference
  }
  function finished() {
    return outbox("readwrite", function (s) { return s.delete(path); }).then(arrived);
  }
  // Send this link's queued submission, if there is one.
  function flush() {
    if (sending || !own || !window.indexedDB) return;
    sending = true;
    clearTimeout(retry);
    outbox("readonly", function (s) { return s.get(path); }).then(function (entry) {
      if (!entry) return;
      say("sending");
      // A slow network: say the answers are safe while the phone keeps trying.
      var slow = setTimeout(function () { say("queued"); }, 4000);
      return post(entry).then(function (how) {
        clearTimeout(slow);
        if (how === "done") return finished();
        if (how === "check") return check(entry);
        say("queued");
        // Not sent: the service worker may send it even after this page is closed.
        if (navigator.serviceWorker) {
          navigator.serviceWorker.ready.then(function (reg) { return reg.sync && reg.sync.register("outbox"); }).catch(function () {});
        }
        retry = setTimeout(flush, delay);
        delay = Math.min(delay * 2, 60000);
      });
    }).catch(function () {}).then(function () { sending = false; });
  }
  // The server has something to say about the answers (a message beside a field): send the
  // form the ordinary way so the page shows it, with everything still filled in.
  function check(entry) {
    entry.fields.forEach(function (f) {
      var input = f[2] != null && form.elements[f[0]];
      if (input && input.type === "file" && !input.files.length && window.DataTransfer) {
        var dt = new DataTransfer();
        dt.items.add(f[1] instanceof File ? f[1] : new File([f[1]], f[2], { type: f[1].type }));
        input.files = dt.files;
      }
    });
    return outbox("readwrite", function (s) { return s.delete(path); }).then(function () {
      form.dataset.sent = "1";
      HTMLFormElement.prototype.submit.call(form);
    });
  }
  // ``action``: the button's (the outcome panel's "Send this instead" sends action=outcome).
  function queue(action) {
    var entry = { path: path, at: Date.now(), fields: action ? [["action", action]] : [] };
    new FormData(form).forEach(function (v, n) {
      if (typeof v === "string") entry.fields.push([n, v]);
      else if (v.name || v.size) entry.fields.push([n, v, v.name]);
    });
    return outbox("readwrite", function (s) { return s.put(entry, path); }).then(function () {
      delay = 3000;
      flush();
    });
  }

  function changed(e) {
    var first = form.elements.first_answer_at;
    if (first && !first.value) first.value = new Date().toISOString();
    if (e && e.target.type === "file") shrinking = shrink(e.target);
    apply();
    keep();
  }
  form.addEventListener("change", changed);
  form.addEventListener("input", apply);
  var pressed = null; // the button, where the browser has no SubmitEvent.submitter
  form.addEventListener("click", function (e) { pressed = e.target.closest("button"); });
  form.addEventListener("submit", function (e) {
    var by = e.submitter || pressed;
    pressed = null;
    if (form.dataset.sent) { e.preventDefault(); return; }
    var action = by && by.name === "action" ? by.value : "";
    if (/^(add|remove):/.test(action)) { e.preventDefault(); repeat(by); return; }
    apply(); // answers restored by the browser fire no event: settle what is sent on what is shown
    if (!action) {
      var found = problems();
      if (found.length) { e.preventDefault(); refuse(found); return; } // nothing is posted
    }
    if (own && by && by.value === "save") {
      // Already kept on this phone; the server copy is what "finish later" on another phone needs.
      e.preventDefault();
      keep();
      clearTimeout(timer);
      sync();
      say("saved");
      return;
    }
    if (own && window.indexedDB && window.fetch && window.Promise) {
      e.preventDefault();
      if (sending) return;
      keep();
      Promise.resolve(shrinking).then(function () { return queue(action); }).catch(function () {
        // No room on the phone for the queue: send the ordinary way.
        form.dataset.sent = "1";
        HTMLFormElement.prototype.submit.call(form);
      });
      return;
    }
    form.dataset.sent = "1";
    var btn = form.querySelector("button[type=submit]");
    if (btn && state) { btn.dataset.label = btn.textContent; btn.textContent = state.getAttribute("data-sending"); }
  });
  // Coming back to the page (back button, bfcache) must allow sending again.
  window.addEventListener("pageshow", function () {
    delete form.dataset.sent;
    apply();
    var btn = form.querySelector("button[type=submit]");
    if (btn && btn.dataset.label) btn.textContent = btn.dataset.label;
  });

  // ---- photos: a phone's 12-megapixel receipt is made ~1600 px, JPEG, before it is sent
  function shrink(input) {
    var file = input.files && input.files[0], MAX = 1600;
    if (!file || !/^image\/(jpeg|png|webp)$/.test(file.type) || !window.createImageBitmap || !window.DataTransfer) return null;
    return createImageBitmap(file).then(function (img) {
      var k = MAX / Math.max(img.width, img.height);
      if (k >= 1) return;
      var c = document.createElement("canvas"), g = c.getContext("2d");
      c.width = Math.round(img.width * k);
      c.height = Math.round(img.height * k);
      g.fillStyle = "#fff"; // a transparent PNG must not turn black
      g.fillRect(0, 0, c.width, c.height);
      g.drawImage(img, 0, 0, c.width, c.height);
      return new Promise(function (ok) { c.toBlob(ok, "image/jpeg", 0.85); }).then(function (blob) {
        if (!blob || blob.size >= file.size || input.files[0] !== file) return;
        var dt = new DataTransfer();
        dt.items.add(new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" }));
        input.files = dt.files;
      });
    }).catch(function () { /* kept as chosen: the server takes it as it is */ });
  }

  // ---- repeated sections: "Add another" and "Remove" without a round trip (they are submit buttons without JS)
  function number(r, n) {
    r.id = r.id.replace(/-\d+$/, "-" + n);
    [].forEach.call(r.querySelectorAll("*"), function (el) {
      ["id", "name", "for", "aria-describedby", "data-show-if"].forEach(function (a) {
        var v = el.getAttribute(a);
        if (v) el.setAttribute(a, v.replace(SUFFIX, "-" + n));
      });
    });
    var h = r.querySelector("h3"), rm = r.querySelector("button[value^='remove:']");
    h.textContent = h.getAttribute("data-text").replace("{n}", n);
    rm.value = rm.value.replace(/\d+$/, n);
    rm.textContent = rm.getAttribute("data-text").replace("{n}", n);
  }
  function reps(box) { return box.querySelectorAll(".r"); }
  function grow(box) {
    var all = reps(box), last = all[all.length - 1], copy = last.cloneNode(true);
    [].forEach.call(copy.querySelectorAll("input,textarea"), function (el) {
      if (el.type === "radio" || el.type === "checkbox") el.checked = false; else el.value = "";
      el.removeAttribute("aria-invalid");
    });
    [].forEach.call(copy.querySelectorAll(".err,.kept,.count"), function (el) { el.remove(); });
    [].forEach.call(copy.querySelectorAll(".bad"), function (el) { el.classList.remove("bad"); });
    number(copy, all.length + 1);
    last.after(copy);
    return copy;
  }
  function settle(box) {
    var all = reps(box), n = all.length;
    [].forEach.call(all, function (r, i) { number(r, i + 1); });
    box.querySelector("input[name^='n_']").value = n;
    [].forEach.call(box.querySelectorAll("button[value^='remove:']"), function (b) { b.hidden = n <= +box.getAttribute("data-min"); });
    box.querySelector("button[value^='add:']").hidden = n >= +box.getAttribute("data-max");
    scan();
    apply();
  }
  function repeat(by) {
    var box = by.closest(".reps"), at;
    if (by.value.indexOf("add:") === 0) {
      at = grow(box);
    } else {
      var gone = by.closest(".r");
      at = gone.previousElementSibling || gone.nextElementSibling;
      gone.remove();
    }
    settle(box);
    keep();
    var first = at && at.querySelector("input:not([type=hidden]),textarea");
    if (first) first.focus();
  }
  // A kept draft with more (or fewer) repetitions than the page shows: match it before filling it in.
  function shape(f) {
    [].forEach.call(form.querySelectorAll(".reps"), function (box) {
      var want = parseInt((f[box.querySelector("input[name^='n_']").name] || [])[0], 10);
      if (!(want >= +box.getAttribute("data-min") && want <= +box.getAttribute("data-max"))) return;
      while (reps(box).length < want) grow(box);
      while (reps(box).length > want) reps(box)[reps(box).length - 1].remove();
      settle(box);
    });
  }

  // ---- the mistakes the server would refuse, found before anything is sent
  function title(q) {
    var t = q.querySelector("legend") || q.querySelector("label");
    t = t.cloneNode(true);
    [].forEach.call(t.querySelectorAll(".opt"), function (o) { o.remove(); });
    var r = q.closest(".r");
    return t.textContent.trim() + (r ? " (" + r.querySelector("h3").textContent + ")" : "");
  }
  function problems() {
    var found = [];
    function bad(q, control, message) { found.push({ q: q, control: control, message: message }); }
    ["visit_date", "visit_time"].forEach(function (name) {
      var el = form.elements[name];
      if (el && !el.value.trim()) bad(el.closest(".q"), el, words("req", {}));
    });
    [].forEach.call(questions, function (q) {
      if (q.closest("[hidden]")) return;
      var key = q.id.slice(2), els = q.querySelectorAll('[name="q_' + key + '"]'), el = els[0];
      var kept = q.querySelector('[name="q_' + key + '__upload"]'), na = q.querySelector('[name="q_' + key + '__na"]');
      var given = [].some.call(els, function (e) { return e.type === "file" ? e.files.length : (e.type === "radio" || e.type === "checkbox") ? e.checked : e.value.trim(); });
      if (!given && !(kept && kept.value) && !(na && na.checked)) {
        if (required(q)) bad(q, el, words(el.type === "file" ? "photo" : "req", {}));
        return;
      }
      if (el.hasAttribute("inputmode") && !(na && na.checked)) {
        var v = parseFloat(el.value.replace(",", ".").replace(/ /g, ""));
        if (!/^\s*-?[\d\s]*[.,]?\d*\s*$/.test(el.value) || isNaN(v)) bad(q, el, words("num", {}));
        else if (el.hasAttribute("data-min") && v < +el.getAttribute("data-min")) bad(q, el, words("min", { min: +el.getAttribute("data-min") }));
        else if (el.hasAttribute("data-max") && v > +el.getAttribute("data-max")) bad(q, el, words("max", { max: +el.getAttribute("data-max") }));
      }
      if (el.tagName === "TEXTAREA" && el.value.trim().length > M.text) bad(q, el, words("long", { max: M.text, count: el.value.trim().length }));
      var box = q.querySelector(".c textarea");
      if (box) {
        var typed = box.value.trim().length;
        if (typed > M.comment) bad(q, box, words("clong", { max: M.comment, count: typed }));
        else if (!typed && box.closest(".onfail") && short(box.closest(".onfail"))) bad(q, box, words("fail", {}));
      }
    });
    return found;
  }
  // Show what is wrong as the server would (a message beside each, the summary above), and focus the first.
  function refuse(found) {
    [].forEach.call(form.querySelectorAll(".err"), function (e) { e.remove(); });
    [].forEach.call(form.querySelectorAll(".bad"), function (e) { e.classList.remove("bad"); });
    [].forEach.call(form.querySelectorAll("[aria-invalid]"), function (e) { e.removeAttribute("aria-invalid"); });
    var old = document.getElementById("summary");
    if (old) old.remove();
    var box = document.createElement("div"), list = document.createElement("ul"), seen = [];
    box.className = "summary"; box.id = "summary"; box.setAttribute("role", "alert"); box.tabIndex = -1;
    found.forEach(function (p, i) {
      var id = "e-" + (p.control.id || p.control.name) + "-js" + i, msg = document.createElement("p");
      msg.className = "err"; msg.id = id; msg.textContent = p.message;
      p.control.closest(".c, .q").insertBefore(msg, p.control.closest(".num, .o") || p.control);
      p.control.setAttribute("aria-invalid", "true");
      p.control.setAttribute("aria-describedby", ((p.control.getAttribute("aria-describedby") || "") + " " + id).trim());
      p.q.classList.add("bad");
      if (seen.indexOf(p.q) >= 0) return;
      seen.push(p.q);
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = "#" + (p.q.id || p.control.id); a.textContent = p.q.id ? title(p.q) : p.q.querySelector("label").textContent;
      li.appendChild(a); list.appendChild(li);
    });
    var h = document.createElement("h2");
    h.textContent = words(seen.length === 1 ? "one" : "many", { num: seen.length });
    box.appendChild(h); box.appendChild(list);
    form.parentNode.insertBefore(box, form);
    box.addEventListener("click", jump);
    found[0].control.focus();
  }

  // ---- a counter under a text box as it nears its limit; the chosen date in words beside the date box
  function count(el) {
    if (el.tagName !== "TEXTAREA") return;
    var max = /__comment$|^outcome_comment$/.test(el.name) ? M.comment : M.text, n = el.value.trim().length;
    var c = el.nextElementSibling && el.nextElementSibling.classList.contains("count") ? el.nextElementSibling : null;
    if (n < max * 0.8) { if (c) c.remove(); return; }
    if (!c) { c = document.createElement("p"); c.className = "count help"; c.setAttribute("aria-live", "polite"); el.after(c); }
    c.textContent = words("left", { count: n, max: max });
  }
  function spell(el) {
    if (el.type !== "date") return;
    var p = el.nextElementSibling && el.nextElementSibling.classList.contains("day") ? el.nextElementSibling : null;
    var d = /^\d{4}-\d\d-\d\d$/.test(el.value) ? new Date(el.value + "T12:00:00") : null;
    if (!d) { if (p) p.remove(); return; }
    if (!p) { p = document.createElement("p"); p.className = "day help"; el.after(p); }
    p.textContent = d.toLocaleDateString(lang, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
  }
  form.addEventListener("input", function (e) { count(e.target); spell(e.target); });
  [].forEach.call(form.querySelectorAll("input[type=date]"), spell);

  // A link to a question moves focus to its first answer, not just the scroll position.
  function jump(e) {
    var link = e.target.closest("a[href^='#']");
    var target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    var control = target.matches("input,textarea") ? target
      : target.querySelector("input:not([type=hidden]):not(:disabled),textarea:not(:disabled)");
    if (!control) return;
    e.preventDefault();
    target.scrollIntoView();
    control.focus({ preventScroll: true });
  }
  var summary = document.getElementById("summary");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", jump);
  }
  apply();

  if (own && "serviceWorker" in navigator) {
    var sw = form.getAttribute("data-sw");
    navigator.serviceWorker.register(sw, { scope: sw.replace(/sw\.js$/, "s/") }).catch(function () {});
    navigator.serviceWorker.addEventListener("message", function (e) {
      if (e.data && e.data.sent === path) arrived();
    });
  }
  if (own) flush(); // a submission left on this phone earlier goes now
})();
