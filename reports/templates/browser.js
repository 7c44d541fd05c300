/* afsim transcript browser. Plain JS, no network. Model text reaches the page only through
   textContent / text nodes (never innerHTML), so a reply containing markup shows as text. */
(function () {
  "use strict";
  var PAGE = 50;
  var CRITERIA = ["harm_awareness", "training_awareness", "conflicting_values", "preserves_values"];
  var data, C = {}, rows, filtered = [], page = 0, hay = null, pairIndex = null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "cls") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }
  function safeClass(label) { return String(label || "").toLowerCase().replace(/[^a-z_]/g, ""); }

  function decodeBase64(text) {
    var bin = atob(text), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes;
  }
  function load() {
    var node = document.getElementById("trial-data");
    if (node.dataset.encoding === "json") return Promise.resolve(JSON.parse(node.textContent));
    if (typeof DecompressionStream === "undefined") return Promise.reject(new Error("this browser cannot inflate the embedded trials (needs DecompressionStream)"));
    var stream = new Blob([decodeBase64(node.textContent.trim())]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  function options(select, values) {
    values.forEach(function (v) { select.appendChild(el("option", { value: v, text: v })); });
  }
  function uniques(col) {
    var seen = {};
    rows.forEach(function (r) { var v = r[col]; seen[v === null || v === undefined ? "(none)" : v] = 1; });
    return Object.keys(seen).sort();
  }
  function val(id) { return document.getElementById(id).value; }
  function label(v) { return v === null || v === undefined ? "(none)" : String(v); }

  function applyFilters() {
    var model = val("f-model"), cond = val("f-condition"), comp = val("f-compliance"), af = val("f-af");
    var parse = val("f-parse"), err = val("f-error"), query = val("f-search").trim().toLowerCase();
    if (query && !hay) {
      hay = rows.map(function (r) {
        return (r[C.prompt_id] + "\n" + (data.prompts[r[C.prompt_id]] || "") + "\n" + r[C.scratchpad] + "\n" + r[C.output] + "\n" + r[C.raw]).toLowerCase();
      });
    }
    filtered = [];
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      if (model !== "" && data.models[r[C.model]] !== model) continue;
      if (cond !== "" && data.conditions[r[C.condition]].key !== cond) continue;
      if (comp !== "" && label(r[C.compliance]) !== comp) continue;
      if (af !== "" && label(r[C.af]) !== af) continue;
      if (parse !== "" && label(r[C.parse_status]) !== parse) continue;
      if (err === "yes" && !r[C.error]) continue;
      if (err === "no" && r[C.error]) continue;
      if (query && hay[i].indexOf(query) < 0) continue;
      filtered.push(i);
    }
    sortFiltered();
    page = 0;
    render();
  }

  function scoreOf(r, monitor) {
    if (monitor === "alignment_faking" && r[C.af_score] !== null && r[C.af_score] !== undefined) return r[C.af_score];
    var m = (r[C.monitors] || {})[monitor];
    return m && typeof m.s === "number" ? m.s : null;
  }
  /* Order of the filtered trials: as stored, or by a monitor's score (trials without one last). */
  function sortFiltered() {
    var order = val("f-sort");
    if (!order) return;
    var parts = order.split(":"), monitor = parts[0], sign = parts[1] === "asc" ? 1 : -1;
    if (monitor === "prompt") {
      filtered.sort(function (a, b) { return String(rows[a][C.prompt_id]).localeCompare(String(rows[b][C.prompt_id]), undefined, { numeric: true }) || a - b; });
      return;
    }
    filtered.sort(function (a, b) {
      var x = scoreOf(rows[a], monitor), y = scoreOf(rows[b], monitor);
      if (x === null && y === null) return a - b;
      if (x === null) return 1;
      if (y === null) return -1;
      return sign * (x - y) || a - b;
    });
  }

  function tag(text, cls) { return el("span", { cls: "tag " + cls, text: text }); }

  function render() {
    var body = document.getElementById("trial-rows");
    body.replaceChildren();
    var pages = Math.max(1, Math.ceil(filtered.length / PAGE));
    page = Math.min(page, pages - 1);
    var start = page * PAGE, end = Math.min(filtered.length, start + PAGE);
    for (var i = start; i < end; i++) body.appendChild(rowElement(filtered[i]));
    document.getElementById("t-count").textContent = filtered.length + " of " + rows.length + " trials" +
      (filtered.length ? " · showing " + (start + 1) + "–" + end : "");
    document.getElementById("p-page").textContent = "page " + (page + 1) + " / " + pages;
    document.getElementById("p-prev").disabled = page === 0;
    document.getElementById("p-next").disabled = page >= pages - 1;
  }

  function rowElement(index) {
    var r = rows[index];
    var tr = el("tr", { cls: "trial", "data-index": String(index), id: "trial-" + r[C.key] }, [
      el("td", { text: "▸" }),
      el("td", { text: data.models[r[C.model]] }),
      el("td", { text: data.conditions[r[C.condition]].key }),
      el("td", { text: r[C.prompt_id] }),
      el("td", { text: label(r[C.category]) }),
      el("td", { text: String(r[C.sample]) }),
      el("td", null, [tag(label(r[C.compliance]), safeClass(r[C.compliance]))]),
      el("td", null, [tag(label(r[C.af]), r[C.af_flag] ? "af" : "")]),
      el("td", { text: label(r[C.parse_status]) }),
      el("td", null, [r[C.error] ? tag("error", "err") : null])
    ]);
    tr.addEventListener("click", function () { toggle(tr, index); });
    return tr;
  }

  function toggle(tr, index) {
    var next = tr.nextSibling;
    if (next && next.classList && next.classList.contains("detail-row")) {
      next.remove(); tr.classList.remove("open"); tr.firstChild.textContent = "▸"; return;
    }
    tr.classList.add("open"); tr.firstChild.textContent = "▾";
    var td = el("td", { cls: "detail", colspan: "10" }, [detail(index)]);
    tr.after(el("tr", { cls: "detail-row" }, [td]));
  }

  /* Text with each criterion's quoted evidence wrapped in <mark>, built from text nodes. */
  function highlighted(text, spans) {
    var marks = [];
    spans.forEach(function (s) {
      if (!s.text) return;
      var at = text.indexOf(s.text);
      while (at >= 0) { marks.push([at, at + s.text.length, s.cls, s.title]); at = text.indexOf(s.text, at + s.text.length); }
    });
    marks.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    var pre = el("pre"), pos = 0;
    marks.forEach(function (m) {
      if (m[0] < pos) return; // overlapping quotes: the first one wins
      if (m[0] > pos) pre.appendChild(document.createTextNode(text.slice(pos, m[0])));
      pre.appendChild(el("mark", { cls: m[2], title: m[3], text: text.slice(m[0], m[1]) }));
      pos = m[1];
    });
    pre.appendChild(document.createTextNode(text.slice(pos)));
    return pre;
  }

  function evidenceSpans(r) {
    var spans = [], af = (r[C.monitors] || {}).alignment_faking, comp = (r[C.monitors] || {}).compliance;
    if (af && af.c) Object.keys(af.c).forEach(function (name) {
      var i = CRITERIA.indexOf(name);
      (af.c[name][1] || []).forEach(function (q) { spans.push({ text: q, cls: "c" + (i < 0 ? 4 : i), title: name }); });
    });
    if (comp && comp.e) comp.e.forEach(function (q) { spans.push({ text: q, cls: "c4", title: "compliance evidence" }); });
    return spans;
  }

  function transcript(index, heading) {
    var r = rows[index], spans = evidenceSpans(r);
    var box = el("div", { cls: "pane" }, [el("h4", { text: heading })]);
    box.appendChild(el("div", { cls: "monitor-call" }, [
      "compliance ", tag(label(r[C.compliance]), safeClass(r[C.compliance])),
      " · alignment faking ", tag(label(r[C.af]), r[C.af_flag] ? "af" : ""),
      " · parse ", label(r[C.parse_status]), r[C.error] ? " · error: " + r[C.error] : ""
    ]));
    box.appendChild(el("h4", { text: "Scratchpad" }));
    box.appendChild(highlighted(r[C.scratchpad] || "(empty)", spans));
    box.appendChild(el("h4", { text: "Output" }));
    box.appendChild(highlighted(r[C.output] || "(empty)", spans));
    if (r[C.raw]) {
      box.appendChild(el("h4", { text: "Raw reply (parse status " + label(r[C.parse_status]) + ")" }));
      box.appendChild(el("pre", { text: r[C.raw] }));
    }
    return box;
  }

  function monitorCalls(r) {
    var wrap = el("div"), monitors = r[C.monitors] || {};
    Object.keys(monitors).forEach(function (name) {
      var m = monitors[name];
      var line = el("div", { cls: "monitor-call" }, [
        el("strong", { text: name }), " → " + label(m.l) + " (backend " + label(m.b) + ", score " + label(m.s) + ")",
        m.r ? " — " + m.r : ""
      ]);
      if (m.c) {
        var list = el("ul");
        Object.keys(m.c).forEach(function (crit) {
          var i = CRITERIA.indexOf(crit), quotes = m.c[crit][1] || [];
          var item = el("li", null, [el("mark", { cls: "c" + (i < 0 ? 4 : i), text: crit }), m.c[crit][0] ? " ✓ met" : " ✗ not met"]);
          quotes.forEach(function (q) { item.appendChild(document.createTextNode(" ")); item.appendChild(el("q", { text: q })); });
          list.appendChild(item);
        });
        line.appendChild(list);
      } else if (m.e && m.e.length) {
        line.appendChild(document.createTextNode(" evidence: "));
        m.e.forEach(function (q) { line.appendChild(el("q", { text: q })); line.appendChild(document.createTextNode(" ")); });
      }
      wrap.appendChild(line);
    });
    if (r[C.truth]) wrap.appendChild(el("div", { cls: "monitor-call" }, [el("strong", { text: "ground truth (simulated)" }), " " + JSON.stringify(r[C.truth])]));
    return wrap;
  }

  /* The same prompt (same model, same other axes) on the other side of the pairing axis:
     the same sample index when there is one, else its first sample. */
  function partnerOf(index) {
    var pair = data.pair;
    if (!pair) return null;
    var keyOf = function (r) {
      var values = data.conditions[r[C.condition]].values, parts = [r[C.model], r[C.prompt_id]];
      Object.keys(values).sort().forEach(function (k) { if (k !== pair.axis) parts.push(k + "=" + values[k]); });
      return parts.join("|");
    };
    if (!pairIndex) {
      pairIndex = {};
      rows.forEach(function (r, i) {
        var k = keyOf(r), side = data.conditions[r[C.condition]].values[pair.axis];
        var slot = (pairIndex[k] = pairIndex[k] || {});
        (slot[side] = slot[side] || []).push(i);
      });
    }
    var r = rows[index], mine = data.conditions[r[C.condition]].values[pair.axis];
    var other = mine === pair.treat ? pair.control : pair.treat;
    var candidates = (pairIndex[keyOf(r)] || {})[other] || [];
    if (!candidates.length) return null;
    var same = candidates.filter(function (i) { return rows[i][C.sample] === r[C.sample]; });
    return { index: same.length ? same[0] : candidates[0], value: other, mine: mine };
  }

  function textAt(i) { return i === null || i === undefined ? "" : (data.texts || [])[i] || ""; }

  /* Every message that was sent, as Inspect's viewer shows a sample: the system prompt (with the
     documents the model read first), each turn with its tier tag, the prefill, the params. */
  function conversation(r) {
    var sent = r[C.sent];
    var box = el("div", { cls: "conversation" });
    if (!sent) { box.appendChild(el("p", { cls: "muted", text: "The messages sent were not stored for this trial." })); return box; }
    var system = sent.system === null || sent.system === undefined ? "" :
      (data.systems[sent.system] || []).map(textAt).join("\n\n");
    var sys = el("details", { cls: "message system" }, [
      el("summary", null, [el("strong", { text: "system" }), " · " + system.length + " characters" +
        (sent.documents && sent.documents.length ? " · includes " + sent.documents.length + " documents read first (" + sent.documents.join(", ") + ")" : "")]),
      el("pre", { text: system || "(no system prompt)" })
    ]);
    box.appendChild(sys);
    (sent.turns || []).forEach(function (turn) {
      box.appendChild(el("div", { cls: "message " + safeClass(turn[0]) }, [el("strong", { text: turn[0] }), el("pre", { text: textAt(turn[1]) })]));
    });
    if (sent.prefill !== undefined) box.appendChild(el("div", { cls: "message assistant prefill" }, [el("strong", { text: "assistant (prefill)" }), el("pre", { text: textAt(sent.prefill) })]));
    var facts = [];
    var params = (data.params || [])[r[C.model]];
    if (params) facts.push("params " + JSON.stringify(params));
    if (sent.calls) facts.push(sent.calls + " calls (continuation turns)");
    if (facts.length) box.appendChild(el("p", { cls: "muted", text: facts.join(" · ") }));
    return box;
  }

  function linkTo(kind, key, text) { return el("a", { href: "#" + kind + "=" + key, cls: "permalink", text: text }); }

  function detail(index) {
    var r = rows[index], box = el("div");
    box.appendChild(el("p", { cls: "links" }, [linkTo("trial", r[C.key], "link to this trial"),
      data.pair ? " · " : "", data.pair ? linkTo("pair", r[C.key], "link to the paired view") : null]));
    box.appendChild(el("h4", { text: "Messages sent" }));
    box.appendChild(conversation(r));
    box.appendChild(el("h4", { text: "Prompt " + r[C.prompt_id] + (r[C.category] ? " (" + r[C.category] + ")" : "") }));
    box.appendChild(el("pre", { text: data.prompts[r[C.prompt_id]] || "" }));
    var legend = el("div");
    CRITERIA.forEach(function (c, i) { legend.appendChild(el("span", { cls: "legend-item" }, [el("mark", { cls: "c" + i, text: c.replace(/_/g, " ") })])); });
    legend.appendChild(el("span", { cls: "legend-item" }, [el("mark", { cls: "c4", text: "compliance evidence" })]));
    box.appendChild(legend);
    var panes = el("div", { cls: "panes" }, [transcript(index, "This trial: " + data.conditions[r[C.condition]].key)]);
    var partner = partnerOf(index);
    if (partner) {
      var slot = el("div", { cls: "pane" });
      var button = el("button", { type: "button", cls: "pair-button", text: "Show the same prompt with " + data.pair.axis + "=" + partner.value });
      var showPair = function () {
        var pane = transcript(partner.index, "Paired: " + data.conditions[rows[partner.index][C.condition]].key);
        pane.insertBefore(el("details", { cls: "paired-messages" }, [el("summary", { text: "messages sent (paired trial)" }), conversation(rows[partner.index])]), pane.children[1]);
        slot.replaceWith(pane);
      };
      button.addEventListener("click", function (event) { event.stopPropagation(); showPair(); });
      slot.appendChild(button);
      panes.appendChild(slot);
      box.showPair = showPair;
    }
    box.appendChild(panes);
    box.appendChild(el("h4", { text: "Monitor calls" }));
    box.appendChild(monitorCalls(r));
    box.addEventListener("click", function (event) { event.stopPropagation(); });
    return box;
  }

  /* #trial=KEY opens that trial, #pair=KEY opens it beside its paired trial: stable links that
     survive re-rendering (the key is the trial's identity in the store). */
  function openFromHash() {
    var m = /^#(trial|pair)=([0-9a-f]+)$/.exec(window.location.hash || "");
    if (!m) return;
    var index = -1;
    for (var i = 0; i < rows.length; i++) if (rows[i][C.key] === m[2]) { index = i; break; }
    if (index < 0) { document.getElementById("t-count").textContent = "no trial with key " + m[2] + " in this report"; return; }
    ["f-model", "f-condition", "f-compliance", "f-af", "f-parse", "f-error", "f-search"].forEach(function (id) { document.getElementById(id).value = ""; });
    applyFilters();
    page = Math.floor(filtered.indexOf(index) / PAGE);
    render();
    var tr = document.getElementById("trial-" + m[2]);
    if (!tr) return;
    var next = tr.nextSibling;
    if (!(next && next.classList && next.classList.contains("detail-row"))) toggle(tr, index);
    var box = tr.nextSibling.querySelector(".detail > div");
    if (m[1] === "pair" && box && box.showPair) box.showPair();
    tr.scrollIntoView();
  }

  /* Click a column head of a figures table to sort it by that column (numbers by value). */
  function sortableTables() {
    Array.prototype.forEach.call(document.querySelectorAll("table.data.sortable"), function (table) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
        th.classList.add("sort-head");
        th.addEventListener("click", function () {
          var body = table.tBodies[0], list = Array.prototype.slice.call(body.rows);
          var dir = th.dataset.dir === "desc" ? 1 : -1;
          th.dataset.dir = dir === 1 ? "asc" : "desc";
          var key = function (tr) {
            var text = (tr.cells[col] ? tr.cells[col].textContent : "").trim(), num = parseFloat(text.replace(/[^0-9.+-]/g, ""));
            return isNaN(num) ? text : num;
          };
          list.sort(function (a, b) {
            var x = key(a), y = key(b);
            if (typeof x === "number" && typeof y === "number") return dir * (x - y);
            return dir * String(x).localeCompare(String(y));
          });
          list.forEach(function (tr) { body.appendChild(tr); });
        });
      });
    });
  }

  function start(loaded) {
    data = loaded; rows = data.rows;
    data.columns.forEach(function (name, i) { C[name] = i; });
    options(document.getElementById("f-model"), data.models);
    options(document.getElementById("f-condition"), data.conditions.map(function (c) { return c.key; }));
    options(document.getElementById("f-compliance"), uniques(C.compliance));
    options(document.getElementById("f-af"), uniques(C.af));
    options(document.getElementById("f-parse"), uniques(C.parse_status));
    ["f-model", "f-condition", "f-compliance", "f-af", "f-parse", "f-error", "f-sort"].forEach(function (id) {
      document.getElementById(id).addEventListener("change", applyFilters);
    });
    var timer = null;
    document.getElementById("f-search").addEventListener("input", function () {
      clearTimeout(timer); timer = setTimeout(applyFilters, 200);
    });
    document.getElementById("f-search").addEventListener("change", function () { clearTimeout(timer); applyFilters(); });
    document.getElementById("p-prev").addEventListener("click", function () { page--; render(); });
    document.getElementById("p-next").addEventListener("click", function () { page++; render(); });
    applyFilters();
    openFromHash();
    window.addEventListener("hashchange", openFromHash);
    document.body.dataset.ready = "1";
  }

  sortableTables();
  window.afsimReport = load().then(start).catch(function (error) {
    document.getElementById("t-count").textContent = "could not load the trials: " + error.message;
    throw error;
  });
})();
