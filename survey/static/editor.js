// The HQ console, made nicer; every page works without it (plain forms and buttons).
// - buttons with data-confirm (delete, discard, cancel a link, retire, deactivate) ask first;
// - a question's page shows only the fields of the chosen type;
// - questions can be dragged to a new place (the ↑/↓ buttons do the same, one step at a time).
(function () {
  "use strict";

  // Fields per type: fieldsets carry data-types="yes_no scale ..."; the server hides the others already.
  var form = document.getElementById("question-form");
  var type = form && form.elements.type;
  function showTypeFields() {
    var groups = form.querySelectorAll("[data-types]");
    for (var i = 0; i < groups.length; i++) {
      groups[i].hidden = groups[i].getAttribute("data-types").split(" ").indexOf(type.value) < 0;
    }
  }
  if (type) type.addEventListener("change", showTypeFields);

  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) e.preventDefault();
  });

  // Drag and drop: fill the page's hidden #dnd form and post it to the dragged question's move address.
  var dnd = document.getElementById("dnd");
  var lists = document.querySelectorAll("ol.qs[data-section]");
  if (!dnd || !lists.length || !("draggable" in document.createElement("li"))) return;
  var dragged = null;

  function clearMarks() {
    var marked = document.querySelectorAll(".drop-before,.drop-after,.drop-end");
    for (var i = 0; i < marked.length; i++) marked[i].classList.remove("drop-before", "drop-after", "drop-end");
  }
  function target(e) {
    var list = e.target.closest("ol.qs[data-section]");
    if (!list) return null;
    var row = e.target.closest(".qrow");
    if (row === dragged) return null;
    if (!row) return { list: list, before: null };
    var box = row.getBoundingClientRect();
    var after = e.clientY > box.top + box.height / 2;
    return { list: list, row: row, after: after, before: after ? row.nextElementSibling : row };
  }

  [].forEach.call(document.querySelectorAll(".qrow[data-move]"), function (row) {
    row.draggable = true;
    row.addEventListener("dragstart", function (e) {
      if (e.target.closest("a,button,input,select,textarea") && e.target !== row) { e.preventDefault(); return; }
      dragged = row;
      row.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", row.getAttribute("data-key"));
    });
    row.addEventListener("dragend", function () {
      row.classList.remove("dragging");
      clearMarks();
      dragged = null;
    });
  });

  [].forEach.call(lists, function (list) {
    list.addEventListener("dragover", function (e) {
      if (!dragged) return;
      var t = target(e);
      if (!t) return;
      e.preventDefault();
      clearMarks();
      if (t.row) t.row.classList.add(t.after ? "drop-after" : "drop-before");
      else list.classList.add("drop-end");
    });
    list.addEventListener("dragleave", function (e) {
      if (!list.contains(e.relatedTarget)) clearMarks();
    });
    list.addEventListener("drop", function (e) {
      if (!dragged) return;
      var t = target(e);
      if (!t) return;
      e.preventDefault();
      // The server takes the question out first, then inserts it at this index among the others.
      var others = [].filter.call(list.querySelectorAll(".qrow"), function (r) { return r !== dragged; });
      var index = t.before && t.before !== dragged ? others.indexOf(t.before) : others.length;
      if (t.before === dragged) index = others.indexOf(t.row) + 1;
      if (index < 0) index = others.length;
      dnd.action = dragged.getAttribute("data-move");
      dnd.elements.to_section.value = list.getAttribute("data-section");
      dnd.elements.to_index.value = String(index);
      clearMarks();
      dnd.submit();
    });
  });
})();
