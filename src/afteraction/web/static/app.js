/* afteraction: small progressive enhancement. Pages work without it.
   - send the CSRF token on htmx requests (X-CSRF-Token from the meta tag);
   - keyboard shortcuts: "g i" incidents, "g a" action items, "g p" problems,
     "g s" services, "g t" teams, "g u" people, "n" declare, "/" focus search. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // "tick all": a checkbox with data-check-all="CLASS" ticks or clears every CLASS checkbox
  document.addEventListener("change", function (event) {
    var box = event.target;
    var name = box && box.getAttribute && box.getAttribute("data-check-all");
    if (!name) return;
    document.querySelectorAll("input[type=checkbox]." + name).forEach(function (other) {
      other.checked = box.checked;
    });
  });

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  var GO = { i: "/incidents", a: "/action-items", p: "/problems", s: "/services", t: "/teams", u: "/people" };
  var pendingG = false;
  var timer = null;

  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    if (pendingG) {
      pendingG = false;
      clearTimeout(timer);
      if (GO[key]) { event.preventDefault(); window.location.href = GO[key]; }
      return;
    }
    if (key === "g") {
      pendingG = true;
      timer = setTimeout(function () { pendingG = false; }, 1200);
    } else if (key === "n" && document.querySelector('a[href="/incidents/new"]')) {
      event.preventDefault();
      window.location.href = "/incidents/new";
    } else if (key === "/") {
      var search = document.querySelector('input[type="search"]');
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    }
  });
})();

/* Analysis workspace transcript: keyboard annotation. j/k move, shift+j/k extend a range,
   t then 1–9/0 (or the picker) tags, n adds a note, q an open question, Esc cancels.
   Posts JSON to the API with the CSRF header; the plain forms work without this. */
(function () {
  "use strict";
  var list = document.getElementById("transcript");
  if (!list || list.getAttribute("data-can-edit") !== "yes") return;
  var incident = list.getAttribute("data-incident");
  var items = Array.prototype.slice.call(list.querySelectorAll("li.msg:not(.hidden-msg)"));
  var picker = document.getElementById("tag-picker");
  var cursor = -1, anchor = -1, picking = false;

  function token() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function paint() {
    items.forEach(function (el, i) {
      var lo = Math.min(anchor, cursor), hi = Math.max(anchor, cursor);
      el.classList.toggle("selected", i >= lo && i <= hi && cursor >= 0);
    });
    if (cursor >= 0) { items[cursor].focus(); }
  }
  function selection() {
    var lo = Math.min(anchor, cursor), hi = Math.max(anchor, cursor);
    return { first: items[lo], last: items[hi] };
  }
  function send(body) {
    var sel = selection();
    body.message_id = Number(sel.first.getAttribute("data-id"));
    if (sel.last !== sel.first) body.end_message_id = Number(sel.last.getAttribute("data-id"));
    return fetch("/api/v1/incidents/" + incident + "/annotations", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token() },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (d) { return { ok: r.ok, data: d }; }); })
      .then(function (res) {
        if (!res.ok) { window.alert(res.data.error ? res.data.error.message : "Not saved"); return; }
        var mark = document.createElement("span");
        mark.className = "mark" + (body.question ? " question" : "");
        mark.textContent = body.tag || (body.question ? "question" : "note");
        if (res.data.overlaps && res.data.overlaps.length) { mark.title = "overlaps another range with this tag"; mark.className += " overlap"; }
        sel.first.querySelector(".marks").appendChild(mark);
      });
  }
  function tagAt(n) {
    var buttons = picker ? picker.querySelectorAll("button[data-tag]") : [];
    var index = n === 0 ? 9 : n - 1;
    return buttons[index] ? buttons[index].getAttribute("data-tag") : null;
  }
  function closePicker() { picking = false; if (picker) picker.hidden = true; }
  if (picker) {
    picker.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-tag]");
      if (button && cursor >= 0) { send({ tag: button.getAttribute("data-tag") }); closePicker(); }
    });
  }
  window.addEventListener("keydown", function (event) {
    var target = event.target, tag = target && target.tagName;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    var key = event.key, handled = true;
    if (picking && /^[0-9]$/.test(key)) {
      var chosen = tagAt(Number(key));
      if (chosen) send({ tag: chosen });
      closePicker();
    } else if (key === "Escape") {
      closePicker(); anchor = cursor; paint();
    } else if (key === "j" || key === "J" || key === "k" || key === "K") {
      var step = key.toLowerCase() === "j" ? 1 : -1;
      cursor = Math.max(0, Math.min(items.length - 1, cursor + step));
      if (!event.shiftKey || anchor < 0) anchor = cursor;
      paint();
    } else if (cursor < 0) {
      handled = false;
    } else if (key === "t") {
      picking = true; if (picker) picker.hidden = false;
    } else if (key === "c") {
      var range = selection(), on = false;
      items.forEach(function (el) {
        if (el === range.first) on = true;
        var box = on ? el.querySelector("input.cite-pick") : null;
        if (box) { box.checked = true; box.dispatchEvent(new Event("change", { bubbles: true })); }
        if (el === range.last) on = false;
      });
    } else if (key === "n" || key === "q") {
      var text = window.prompt(key === "n" ? "Note" : "Open question");
      if (text) send({ note: text, question: key === "q" });
    } else {
      handled = false;
    }
    if (handled) { event.preventDefault(); event.stopPropagation(); }
  }, true);
  items.forEach(function (el, i) {
    el.addEventListener("click", function (event) {
      if (event.target.closest("a, button, summary, input, select, textarea, .annotate")) return;
      cursor = i; if (!event.shiftKey || anchor < 0) anchor = i; paint();
    });
  });
})();

/* ---- report reading: active-time heartbeats (the page works the same without this) ---- */
(function () {
  "use strict";
  var article = document.querySelector("[data-report-heartbeat]");
  if (!article || article.hasAttribute("data-draft")) return;
  var url = article.getAttribute("data-report-heartbeat");
  var every = (parseInt(article.getAttribute("data-heartbeat-seconds"), 10) || 15) * 1000;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  function beat() {
    if (document.visibilityState !== "visible") return;
    try {
      fetch(url, {method: "POST", credentials: "same-origin", keepalive: true,
                  headers: {"X-CSRF-Token": token}}).catch(function () {});
    } catch (e) { /* tracking never gets in the way of reading */ }
  }
  var timer = setInterval(beat, every);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") beat();
  });
  window.addEventListener("pagehide", function () { clearInterval(timer); });
})();

// The import form: the kind links switch the kind's fields in place (without JavaScript
// each link reloads the page with ?kind=...). Fields of other kinds are hidden and
// disabled, so they are never sent.
(function () {
  var nav = document.getElementById("import-kinds");
  var form = document.getElementById("import-form");
  if (!nav || !form) return;
  function has(list, kind) { return (" " + list + " ").indexOf(" " + kind + " ") >= 0; }
  function choose(kind) {
    form.elements.kind.value = kind;
    form.querySelectorAll(".kind-fields").forEach(function (el) {
      var on = has(el.dataset.kinds, kind);
      el.hidden = !on;
      if (el.tagName === "FIELDSET") el.disabled = !on;
      el.querySelectorAll("button").forEach(function (b) { b.disabled = !on; });
    });
    form.querySelectorAll("[data-kind-only]").forEach(function (el) {
      el.hidden = el.dataset.kindOnly !== kind;
    });
    nav.querySelectorAll("a[data-kind]").forEach(function (a) {
      var on = a.dataset.kind === kind;
      a.classList.toggle("primary", on);
      if (on) a.setAttribute("aria-current", "true"); else a.removeAttribute("aria-current");
    });
  }
  nav.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-kind]");
    if (!link) return;
    event.preventDefault();
    choose(link.dataset.kind);
    history.replaceState(null, "", link.href);
  });
})();

// Citing evidence by pointing: the cite bar counts the ticked items, and a cited item's
// remove button takes its chip off the note form in place (without JavaScript the button
// posts the form back without that citation).
(function () {
  "use strict";
  var bar = document.getElementById("cite-form");
  var count = bar ? bar.querySelector("[data-cite-count]") : null;
  if (count) {
    var show = function () {
      var n = document.querySelectorAll("input.cite-pick:checked").length;
      count.textContent = n ? n + " ticked" : "";
    };
    document.addEventListener("change", function (event) {
      if (event.target && event.target.classList && event.target.classList.contains("cite-pick")) show();
    });
    show();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.chip-drop");
    if (!button) return;
    var chip = button.closest("li.chip");
    if (!chip) return;
    event.preventDefault();
    var list = chip.parentNode;
    chip.remove();
    if (list && !list.querySelector("li.chip")) {
      var empty = document.createElement("li");
      empty.className = "muted";
      empty.textContent = "Nothing cited.";
      list.appendChild(empty);
    }
  });
})();

// Annotating with the mouse: each transcript item has an "Annotate" link, and the page has
// one annotate form, which moves under the item whose link is clicked (without JavaScript
// the link reloads the page with that item's own form open). One form instead of a form
// per item keeps a 200-message screen light.
(function () {
  "use strict";
  var form = document.getElementById("annotate-form");
  if (!form) return;
  var target = form.querySelector('input[type="hidden"][name="message_id"]');
  var opener = null;
  function close() {
    form.hidden = true;
    if (opener) { opener.hidden = false; opener.focus(); opener = null; }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.annotate-link");
    if (link) {
      event.preventDefault();
      if (opener) opener.hidden = false;
      opener = link;
      target.name = link.dataset.field;
      target.value = link.dataset.id;
      form.reset();
      target.value = link.dataset.id;
      link.hidden = true;
      link.parentNode.insertBefore(form, link.nextSibling);
      form.hidden = false;
      form.querySelector("select").focus();
      return;
    }
    if (event.target.closest && event.target.closest("[data-annotate-cancel]")) {
      event.preventDefault();
      close();
    }
  });
  form.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.stopPropagation(); close(); }
  });
})();
