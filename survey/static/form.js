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
  var rules = [].map.call(form.querySelectorAll("[data-show-if]"), function (el) {
    return { el: el, rule: JSON.parse(el.getAttribute("data-show-if")) };
  });
  var onfail = form.querySelectorAll(".onfail[data-full]");
  var questions = form.querySelectorAll(".q[id^='q-']");
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
  function queue() {
    var entry = { path: path, at: Date.now(), fields: [] };
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
    apply(); // answers restored by the browser fire no event: settle what is sent on what is shown
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
      Promise.resolve(shrinking).then(queue).catch(function () {
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

  if (own && "serviceWorker" in navigator) {
    var sw = form.getAttribute("data-sw");
    navigator.serviceWorker.register(sw, { scope: sw.replace(/sw\.js$/, "s/") }).catch(function () {});
    navigator.serviceWorker.addEventListener("message", function (e) {
      if (e.data && e.data.sent === path) arrived();
    });
  }
  if (own) flush(); // a submission left on this phone earlier goes now
})();
