// The shopper's service worker (served as /sw.js, registered for /s/): a link opened once
// opens again without a network, and a submission queued on the phone (form.js, IndexedDB
// "shopper"/"outbox") is sent by Background Sync when the network returns, even with the
// page closed. Exactly once is the server's job: the queued form carries its idempotency key.
"use strict";
var CACHE = "shopper-v1";
var ROOT = new URL("./", self.location).pathname;
var PAGES = ROOT + "s/", STATIC = ROOT + "static/";

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) {
    return c.addAll([STATIC + "app.css", STATIC + "form.js"]);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("shopper-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }).then(function () {
    // The page that registered this worker loaded without it: keep a copy of it now.
    return self.clients.matchAll({ type: "window" });
  }).then(function (wins) {
    return caches.open(CACHE).then(function (c) {
      return Promise.all(wins.map(function (w) {
        var p = new URL(w.url).pathname;
        return p.indexOf(PAGES) === 0 ? c.add(p).catch(function () {}) : null;
      }));
    });
  }));
});

self.addEventListener("fetch", function (e) {
  var req = e.request, url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  if (req.mode === "navigate" && url.pathname.indexOf(PAGES) === 0) {
    // The page: the network's answer when there is one (it knows whether it was received), else the copy.
    e.respondWith(fetch(req).then(function (res) {
      var copy = res.clone();
      e.waitUntil(caches.open(CACHE).then(function (c) {
        if (res.status === 200) return c.put(url.pathname, copy);
        if (res.status === 404 || res.status === 410) return c.delete(url.pathname);
      }));
      return res;
    }, function () {
      return caches.match(url.pathname).then(function (hit) { return hit || Response.error(); });
    }));
  } else if (url.pathname.indexOf(STATIC) === 0) {
    // Styles and script: the copy at once, refreshed behind it for the next visit.
    e.respondWith(caches.open(CACHE).then(function (c) {
      return c.match(req).then(function (hit) {
        var net = fetch(req).then(function (res) {
          if (res.status === 200) return c.put(req, res.clone()).then(function () { return res; });
          return res;
        });
        if (!hit) return net;
        e.waitUntil(net.catch(function () {}));
        return hit;
      });
    }));
  }
});

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

// Post one queued submission: "done" (stored, now or before), "wait" (try later) or "check"
// (the server has a message for the shopper: left for the page, which shows it).
function post(entry) {
  var fd = new FormData();
  entry.fields.forEach(function (f) { if (f[2] != null) fd.append(f[0], f[1], f[2]); else fd.append(f[0], f[1]); });
  return fetch(entry.path, { method: "POST", body: fd, credentials: "same-origin", redirect: "manual" }).then(function (r) {
    if (r.type === "opaqueredirect" || (r.status >= 300 && r.status < 400)) return "done";
    return r.status >= 500 || r.status === 408 || r.status === 429 ? "wait" : "check";
  }, function () { return "wait"; });
}

function flush() {
  return outbox("readonly", function (s) { return s.getAll(); }).then(function (entries) {
    return Promise.all(entries.map(function (entry) {
      return post(entry).then(function (how) {
        if (how === "wait") throw new Error("not sent yet");
        if (how !== "done") return;
        return outbox("readwrite", function (s) { return s.delete(entry.path); }).then(function () {
          return self.clients.matchAll({ type: "window" });
        }).then(function (wins) {
          wins.forEach(function (w) { w.postMessage({ sent: entry.path }); });
        });
      });
    }));
  });
}

// A rejected promise asks the browser to try the sync again later.
self.addEventListener("sync", function (e) {
  if (e.tag === "outbox") e.waitUntil(flush());
});
