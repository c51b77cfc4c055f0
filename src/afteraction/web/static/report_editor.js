/* The report editor (/incidents/INC-n/report/edit): line numbers beside the Markdown, kept
   in line with wrapped lines and in sync with scrolling; a finding's "line N" link selects
   the words it is about; "Accept" puts a finding's suggested text in place of those words,
   as an edit the writer then saves (the save checks the version: a concurrent save is
   answered 409 with both texts kept). Without JavaScript the editor is a plain textarea and
   the findings still name their line and column. */
(function () {
  "use strict";
  var area = document.getElementById("report-body");
  if (!area) return;

  var box = document.createElement("div");
  box.className = "editor-lines";
  var gutter = document.createElement("div");
  gutter.className = "gutter";
  gutter.setAttribute("aria-hidden", "true");
  var mirror = document.createElement("div");
  mirror.className = "mirror";
  mirror.setAttribute("aria-hidden", "true");
  area.parentNode.insertBefore(box, area);
  box.appendChild(gutter);
  box.appendChild(area);
  box.appendChild(mirror);

  var current = 0, pending = false;

  function lines() { return area.value.split("\n"); }

  function render() {
    pending = false;
    var all = lines();
    var style = window.getComputedStyle(area);
    var inner = area.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    mirror.style.width = Math.max(inner, 10) + "px";
    mirror.textContent = "";
    var rows = document.createDocumentFragment();
    all.forEach(function (text) {
      var row = document.createElement("div");
      row.textContent = text || "\u200b";
      rows.appendChild(row);
    });
    mirror.appendChild(rows);
    var numbers = document.createDocumentFragment();
    Array.prototype.forEach.call(mirror.children, function (row, i) {
      var n = document.createElement("div");
      n.textContent = String(i + 1);
      n.style.height = row.getBoundingClientRect().height + "px";
      if (i + 1 === current) n.className = "current";
      numbers.appendChild(n);
    });
    gutter.textContent = "";
    gutter.appendChild(numbers);
    gutter.style.paddingTop = style.paddingTop;
    gutter.scrollTop = area.scrollTop;
  }

  function later() {
    if (!pending) { pending = true; window.requestAnimationFrame(render); }
  }

  area.addEventListener("input", later);
  area.addEventListener("scroll", function () { gutter.scrollTop = area.scrollTop; });
  window.addEventListener("resize", later);
  if (window.ResizeObserver) new window.ResizeObserver(later).observe(area);
  render();

  // 1-based line and column (in characters, as the server counts them) → textarea offset
  function offsetOf(line, column) {
    var all = lines(), pos = 0;
    for (var i = 0; i < line - 1 && i < all.length; i++) pos += all[i].length + 1;
    var text = all[line - 1] || "";
    return pos + Array.from(text).slice(0, Math.max(0, column - 1)).join("").length;
  }

  function span(el) {
    var d = el.dataset;
    return {
      start: offsetOf(+d.line, +d.column),
      end: offsetOf(+(d.endLine || d.line), +d.endColumn),
      line: +d.line
    };
  }

  function show(where) {
    current = where.line;
    area.focus();
    area.setSelectionRange(where.start, where.end);
    render();
    var row = gutter.children[where.line - 1];
    if (row) {
      var top = row.offsetTop - gutter.firstChild.offsetTop;
      area.scrollTop = Math.max(0, top - area.clientHeight / 3);
      gutter.scrollTop = area.scrollTop;
    }
  }

  function reveal() {
    document.querySelectorAll("button.accept[hidden]").forEach(function (b) { b.hidden = false; });
  }

  function accept(button) {
    var where = span(button);
    var value = area.value;
    if (value.slice(where.start, where.end) !== button.dataset.text) {
      button.textContent = "The text changed since the check: check again";
      return;
    }
    var replacement = button.dataset.replacement;
    var end = where.end;
    if (replacement === "") {
      var after = /^,?[ \t]+/.exec(value.slice(end));
      if (after) end += after[0].length;
    }
    area.focus();
    area.setSelectionRange(where.start, end);
    var done = replacement === ""
      ? document.execCommand && document.execCommand("delete")
      : document.execCommand && document.execCommand("insertText", false, replacement);
    if (!done) area.setRangeText(replacement, where.start, end, "end");
    if (replacement === "" && /(^|[.!?]\s+|\n\s*)$/.test(area.value.slice(0, where.start))) {
      var first = area.value.charAt(where.start);
      area.setRangeText(first.toUpperCase(), where.start, where.start + 1, "end");
    }
    current = where.line;
    render();
    button.disabled = true;
    button.textContent = "Accepted: save a version to keep it";
    area.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.line-link");
    if (link) { event.preventDefault(); show(span(link)); return; }
    var button = event.target.closest && event.target.closest("button.accept");
    if (button) { event.preventDefault(); accept(button); }
  });
  document.addEventListener("htmx:afterSwap", reveal);
  reveal();
})();
