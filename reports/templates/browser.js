/* afsim transcript browser. Plain JS, no network. Model text reaches the page only through
   textContent / text nodes (never innerHTML), so a reply containing markup shows as text.
   The trials come in parts (reports/payload.py): the index, decoded at load, holds what the table
   shows, filters and sorts on; each chunk of trials (its replies: scratchpad, output, raw; its
   details: monitor evidence, truth, messages sent) and the text table are decoded when a trial of
   theirs is opened, and every chunk's replies once for a text search. The index and this script
   come before the chunks in the page, so the table renders while the parser is still reading them. */
(function () {
  "use strict";
  var PAGE = 50;
  var CRITERIA = ["harm_awareness", "training_awareness", "conflicting_values", "preserves_values"];
  var data, T, n = 0, filtered = [], page = 0, hay = null, hayLoading = null, pairIndex = null;
  var monitors = []; // the run's monitors, as its label filters name them: { name, heading, select }
  var parts = {}, replies = [], details = [], texts = null, pending = Promise.resolve();

  // bidirectional controls in model text are shown as visible marks, not obeyed: an override
  // (U+202E) makes a reply read differently from what the model wrote, and an auditor should see it
  var BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
  function shown(s) {
    return typeof s === "string" ? s.replace(BIDI, function (c) {
      return "\u27e8U+" + ("000" + c.charCodeAt(0).toString(16).toUpperCase()).slice(-4) + "\u27e9";
    }) : s;
  }
  function textNode(s) { return document.createTextNode(shown(s)); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "text") node.textContent = shown(attrs[k]);
      else if (k === "cls") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? textNode(child) : child);
    });
    return node;
  }
  function safeClass(label) { return String(label || "").toLowerCase().replace(/[^a-z_]/g, ""); }

  /* ---- the data's parts ---- */

  function decodeBase64(text) {
    if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
    var bin = atob(text), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes;
  }
  /* One part's element, as JSON: script-safe JSON as it stands, or gzip-base64 inflated. */
  function decode(id) {
    var node = document.getElementById(id);
    if (!node) return Promise.reject(new Error("the report has no element " + id));
    if (node.dataset.encoding === "json") return Promise.resolve(node.textContent).then(JSON.parse);
    if (typeof DecompressionStream === "undefined") return Promise.reject(new Error("this browser cannot inflate the embedded trials (needs DecompressionStream)"));
    var stream = new Blob([decodeBase64(node.textContent.trim())]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }
  /* The chunks and the text table follow this script in the page: read them once it is parsed. */
  var parsed = new Promise(function (resolve) {
    if (document.readyState !== "loading") resolve();
    else document.addEventListener("DOMContentLoaded", resolve);
  });
  function part(id) {
    if (!parts[id]) parts[id] = parsed.then(function () { return decode(id); });
    return parts[id];
  }
  function chunkOf(index) { return Math.floor(index / data.chunk_trials); }
  function loadReplies(k) { return part("trial-replies-" + k).then(function (c) { replies[k] = c; }); }
  function loadChunk(k) { return Promise.all([loadReplies(k), part("trial-details-" + k).then(function (c) { details[k] = c; })]); }
  /* Everything the detail of these trials shows: their chunks and the text table. */
  function loadTrials(indices) {
    var wanted = {};
    indices.forEach(function (i) { wanted[chunkOf(i)] = 1; });
    var loads = Object.keys(wanted).map(function (k) { return loadChunk(+k); });
    loads.push(part("trial-texts").then(function (t) { texts = t; }));
    return Promise.all(loads);
  }
  /* Every chunk's replies (what a search reads), saying how far it got. All at once: the browser
     interleaves their inflating, which is faster than one after another. */
  function loadAllReplies() {
    var done = 0, status = document.getElementById("t-count"), loads = [];
    for (var k = 0; k < data.chunks; k++) loads.push(loadReplies(k).then(function () {
      status.textContent = "reading the replies to search them: " + (++done) + " of " + data.chunks + " blocks…";
    }));
    return Promise.all(loads);
  }

  /* The page's asynchronous work (decoding for an opened trial or a search). window.afsimSettled()
     resolves once everything started so far has finished: the browser tests wait on it. */
  function track(promise) {
    pending = Promise.all([pending, promise.catch(function () {})]);
    return promise;
  }
  function settled() {
    var now = pending;
    return now.then(function () { return now === pending ? undefined : settled(); });
  }
  window.afsimSettled = settled;
  /* The ids of the parts read so far (the index is read at load; the rest as trials open). */
  window.afsimPartsRead = function () { return ["trial-index"].concat(Object.keys(parts)); };

  /* One trial as an object: its index values, its monitors' scores and, once its chunk is
     loaded, the chunk's values (scratchpad, output, raw; accepted, monitors, truth, sent). */
  function trial(index) {
    var t = { index: index, scores: {} }, k = chunkOf(index), at = index % data.chunk_trials;
    Object.keys(T).forEach(function (name) { t[name] = T[name][index]; });
    Object.keys(data.scores).forEach(function (name) { t.scores[name] = data.scores[name][index]; });
    [replies[k], details[k]].forEach(function (chunk) {
      if (chunk) Object.keys(chunk).forEach(function (name) { t[name] = chunk[name][at]; });
    });
    return t;
  }

  /* ---- the table ---- */

  function options(select, values) {
    values.forEach(function (v) { select.appendChild(el("option", { value: v, text: v })); });
  }
  function uniques(column) {
    var seen = {};
    T[column].forEach(function (v) { seen[v === null || v === undefined ? "(none)" : v] = 1; });
    return Object.keys(seen).sort();
  }
  function val(id) { return document.getElementById(id).value; }
  function label(v) { return v === null || v === undefined ? "(none)" : String(v); }

  /* A monitor's verdict on a trial, from the index: [label, flagged], or null without one. */
  function verdictOf(index, monitor) {
    var column = data.labels[monitor], code = column ? column.codes[index] : null;
    return code === null || code === undefined ? null : column.values[code];
  }
  function labelOf(index, monitor) { var v = verdictOf(index, monitor); return v ? v[0] : null; }
  /* The tag of a monitor's label: compliance by its label's colour, any other monitor marked when
     its verdict is flagged (alignment faking, a backdoor, a flipped answer ...). */
  function labelTag(index, monitor) {
    var v = verdictOf(index, monitor), text = label(v ? v[0] : null);
    if (monitor === "compliance") return tag(text, safeClass(v ? v[0] : null));
    return tag(text, v && v[1] ? (monitor === "alignment_faking" ? "af" : "flagged") : "");
  }
  function labelUniques(monitor) {
    var seen = {};
    for (var i = 0; i < n; i++) seen[label(labelOf(i, monitor))] = 1;
    return Object.keys(seen).sort();
  }

  function buildHay() {
    hay = new Array(n);
    replies.forEach(function (c, k) {
      for (var j = 0; j < c.scratchpad.length; j++) {
        var i = k * data.chunk_trials + j, id = T.prompt_id[i];
        hay[i] = (id + "\n" + (data.prompts[id] || "") + "\n" + c.scratchpad[j] + "\n" + c.output[j] + "\n" + c.raw[j]).toLowerCase();
      }
    });
  }

  /* Filter and sort every trial, then show the first page. A text search first reads every
     chunk's replies (once); the other filters and the sorts need only the index. */
  function applyFilters() {
    var model = val("f-model"), cond = val("f-condition");
    var wanted = monitors.filter(function (m) { return m.select.value !== ""; });
    var parse = val("f-parse"), err = val("f-error"), query = val("f-search").trim().toLowerCase();
    if (query && !hay) {
      if (!hayLoading) hayLoading = track(loadAllReplies().then(function () { buildHay(); applyFilters(); }));
      return;
    }
    filtered = [];
    for (var i = 0; i < n; i++) {
      if (model !== "" && data.models[T.model[i]] !== model) continue;
      if (cond !== "" && data.conditions[T.condition[i]].key !== cond) continue;
      if (wanted.some(function (m) { return label(labelOf(i, m.name)) !== m.select.value; })) continue;
      if (parse !== "" && label(T.parse_status[i]) !== parse) continue;
      if (err === "yes" && !T.error[i]) continue;
      if (err === "no" && T.error[i]) continue;
      if (query && hay[i].indexOf(query) < 0) continue;
      filtered.push(i);
    }
    sortFiltered();
    page = 0;
    render();
  }

  function scoreOf(index, monitor) {
    var scores = data.scores[monitor], s = scores ? scores[index] : null;
    return typeof s === "number" ? s : null;
  }
  /* Order of the filtered trials: as stored, or by a monitor's score (trials without one last). */
  function sortFiltered() {
    var order = val("f-sort");
    if (!order) return;
    // "monitor:desc": the last colon, as a monitor's name may hold one (a judge's backend, model:tag)
    var at = order.lastIndexOf(":"), monitor = order.slice(0, at), sign = order.slice(at + 1) === "asc" ? 1 : -1;
    if (monitor === "prompt") {
      filtered.sort(function (a, b) { return String(T.prompt_id[a]).localeCompare(String(T.prompt_id[b]), undefined, { numeric: true }) || a - b; });
      return;
    }
    filtered.sort(function (a, b) {
      var x = scoreOf(a, monitor), y = scoreOf(b, monitor);
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
    document.getElementById("t-count").textContent = filtered.length + " of " + n + " trials" +
      (filtered.length ? " · showing " + (start + 1) + "–" + end : "");
    document.getElementById("p-page").textContent = "page " + (page + 1) + " / " + pages;
    document.getElementById("p-prev").disabled = page === 0;
    document.getElementById("p-next").disabled = page >= pages - 1;
  }

  function rowElement(index) {
    var tr = el("tr", { cls: "trial", "data-index": String(index), id: "trial-" + T.key[index] }, [
      el("td", { text: "▸" }),
      el("td", { text: data.models[T.model[index]] }),
      el("td", { text: data.conditions[T.condition[index]].key }),
      el("td", { text: T.prompt_id[index] }),
      el("td", { text: label(T.category[index]) }),
      el("td", { text: String(T.sample[index]) })
    ].concat(monitors.map(function (m) { return el("td", null, [labelTag(index, m.name)]); }), [
      el("td", { text: label(T.parse_status[index]) }),
      el("td", null, [T.error[index] ? tag("error", "err") : null])
    ]));
    tr.addEventListener("click", function () { toggle(tr, index); });
    return tr;
  }

  /* Open (or close) a trial's detail row. It shows at once and fills in once the trial's chunk,
     its paired trial's chunk and the text table are decoded; resolves to the detail box. */
  function toggle(tr, index) {
    var next = tr.nextSibling;
    if (next && next.classList && next.classList.contains("detail-row")) {
      next.remove(); tr.classList.remove("open"); tr.firstChild.textContent = "▸"; return Promise.resolve(null);
    }
    tr.classList.add("open"); tr.firstChild.textContent = "▾";
    var td = el("td", { cls: "detail", colspan: String(tr.cells.length) }, [el("p", { cls: "muted", text: "reading this transcript…" })]);
    tr.after(el("tr", { cls: "detail-row" }, [td]));
    var partner = partnerOf(index);
    return track(loadTrials(partner ? [index, partner.index] : [index]).then(function () {
      var box = detail(index, partner);
      td.replaceChildren(box);
      return box;
    }, function (error) {
      td.replaceChildren(el("p", { cls: "muted", text: "could not read this transcript: " + error.message }));
      throw error;
    }));
  }

  /* ---- one trial ---- */

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
      if (m[0] > pos) pre.appendChild(textNode(text.slice(pos, m[0])));
      pre.appendChild(el("mark", { cls: m[2], title: m[3], text: text.slice(m[0], m[1]) }));
      pos = m[1];
    });
    pre.appendChild(textNode(text.slice(pos)));
    return pre;
  }

  function evidenceSpans(t) {
    var spans = [], af = (t.monitors || {}).alignment_faking, comp = (t.monitors || {}).compliance;
    if (af && af.c) Object.keys(af.c).forEach(function (name) {
      var i = CRITERIA.indexOf(name);
      (af.c[name][1] || []).forEach(function (q) { spans.push({ text: q, cls: "c" + (i < 0 ? 4 : i), title: name }); });
    });
    if (comp && comp.e) comp.e.forEach(function (q) { spans.push({ text: q, cls: "c4", title: "compliance evidence" }); });
    return spans;
  }

  function transcript(t, heading) {
    var spans = evidenceSpans(t);
    var box = el("div", { cls: "pane" }, [el("h4", { text: heading })]);
    var calls = [];
    monitors.forEach(function (m) { calls.push(m.heading + " ", labelTag(t.index, m.name), " · "); });
    box.appendChild(el("div", { cls: "monitor-call" }, calls.concat([
      "parse ", label(t.parse_status), t.error ? " · error: " + t.error : ""
    ])));
    box.appendChild(el("h4", { text: "Scratchpad" }));
    box.appendChild(highlighted(t.scratchpad || "(empty)", spans));
    box.appendChild(el("h4", { text: "Output" }));
    box.appendChild(highlighted(t.output || "(empty)", spans));
    if (t.raw) {
      box.appendChild(el("h4", { text: "Raw reply (parse status " + label(t.parse_status) + ")" }));
      box.appendChild(el("pre", { text: t.raw }));
    }
    return box;
  }

  function monitorCalls(t) {
    var wrap = el("div"), monitors = t.monitors || {};
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
    if (t.truth) wrap.appendChild(el("div", { cls: "monitor-call" }, [el("strong", { text: "ground truth (simulated)" }), " " + JSON.stringify(t.truth)]));
    return wrap;
  }

  /* The same prompt (same model, same other axes) on the other side of the pairing axis:
     the same sample index when there is one, else its first sample. Reads only the index. */
  function partnerOf(index) {
    var pair = data.pair;
    if (!pair) return null;
    var keyOf = function (i) {
      var values = data.conditions[T.condition[i]].values, parts = [T.model[i], T.prompt_id[i]];
      Object.keys(values).sort().forEach(function (k) { if (k !== pair.axis) parts.push(k + "=" + values[k]); });
      return parts.join("|");
    };
    if (!pairIndex) {
      pairIndex = {};
      for (var i = 0; i < n; i++) {
        var k = keyOf(i), side = data.conditions[T.condition[i]].values[pair.axis];
        var slot = (pairIndex[k] = pairIndex[k] || {});
        (slot[side] = slot[side] || []).push(i);
      }
    }
    var mine = data.conditions[T.condition[index]].values[pair.axis];
    var other = mine === pair.treat ? pair.control : pair.treat;
    var candidates = (pairIndex[keyOf(index)] || {})[other] || [];
    if (!candidates.length) return null;
    var same = candidates.filter(function (i) { return T.sample[i] === T.sample[index]; });
    return { index: same.length ? same[0] : candidates[0], value: other, mine: mine };
  }

  function textAt(i) { return i === null || i === undefined ? "" : texts.texts[i] || ""; }

  /* Every message that was sent, as Inspect's viewer shows a sample: the system prompt (with the
     documents the model read first), each turn with its tier tag, the prefill, the params. */
  function conversation(t) {
    var sent = t.sent;
    var box = el("div", { cls: "conversation" });
    if (!sent) { box.appendChild(el("p", { cls: "muted", text: "The messages sent were not stored for this trial." })); return box; }
    var system = sent.system === null || sent.system === undefined ? "" :
      (texts.systems[sent.system] || []).map(textAt).join("\n\n");
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
    var params = (data.params || [])[t.model];
    if (params) facts.push("params " + JSON.stringify(params));
    if (sent.calls) facts.push(sent.calls + " calls (continuation turns)");
    if (facts.length) box.appendChild(el("p", { cls: "muted", text: facts.join(" · ") }));
    return box;
  }

  function linkTo(kind, key, text) { return el("a", { href: "#" + kind + "=" + key, cls: "permalink", text: text }); }

  /* The opened trial (its chunk, and its partner's, are loaded). */
  function detail(index, partner) {
    var t = trial(index), box = el("div");
    box.appendChild(el("p", { cls: "links" }, [linkTo("trial", t.key, "link to this trial"),
      data.pair ? " · " : "", data.pair ? linkTo("pair", t.key, "link to the paired view") : null]));
    box.appendChild(el("h4", { text: "Messages sent" }));
    box.appendChild(conversation(t));
    box.appendChild(el("h4", { text: "Prompt " + t.prompt_id + (t.category ? " (" + t.category + ")" : "") }));
    box.appendChild(el("pre", { text: data.prompts[t.prompt_id] || "" }));
    var legend = el("div");
    CRITERIA.forEach(function (c, i) { legend.appendChild(el("span", { cls: "legend-item" }, [el("mark", { cls: "c" + i, text: c.replace(/_/g, " ") })])); });
    legend.appendChild(el("span", { cls: "legend-item" }, [el("mark", { cls: "c4", text: "compliance evidence" })]));
    box.appendChild(legend);
    var panes = el("div", { cls: "panes" }, [transcript(t, "This trial: " + data.conditions[t.condition].key)]);
    if (partner) {
      var other = trial(partner.index);
      var slot = el("div", { cls: "pane" });
      var button = el("button", { type: "button", cls: "pair-button", text: "Show the same prompt with " + data.pair.axis + "=" + partner.value });
      var showPair = function () {
        var pane = transcript(other, "Paired: " + data.conditions[other.condition].key);
        pane.insertBefore(el("details", { cls: "paired-messages" }, [el("summary", { text: "messages sent (paired trial)" }), conversation(other)]), pane.children[1]);
        slot.replaceWith(pane);
      };
      button.addEventListener("click", function (event) { event.stopPropagation(); showPair(); });
      slot.appendChild(button);
      panes.appendChild(slot);
      box.showPair = showPair;
    }
    box.appendChild(panes);
    box.appendChild(el("h4", { text: "Monitor calls" }));
    box.appendChild(monitorCalls(t));
    box.addEventListener("click", function (event) { event.stopPropagation(); });
    return box;
  }

  /* #trial=KEY opens that trial, #pair=KEY opens it beside its paired trial: stable links that
     survive re-rendering (the key is the trial's identity in the store). */
  function openFromHash() {
    var m = /^#(trial|pair)=([0-9A-Za-z_-]+)$/.exec(window.location.hash || "");
    if (!m) return Promise.resolve();
    var index = T.key.indexOf(m[2]);
    if (index < 0) { document.getElementById("t-count").textContent = "no trial with key " + m[2] + " in this report"; return Promise.resolve(); }
    Array.prototype.forEach.call(document.querySelectorAll("#filters select:not(#f-sort), #f-search"), function (e) { e.value = ""; });
    applyFilters();
    page = Math.floor(filtered.indexOf(index) / PAGE);
    render();
    var tr = document.getElementById("trial-" + m[2]);
    if (!tr) return Promise.resolve();
    tr.scrollIntoView();
    var next = tr.nextSibling, open = next && next.classList && next.classList.contains("detail-row");
    return (open ? settled() : toggle(tr, index)).then(function () {
      var box = tr.nextSibling && tr.nextSibling.querySelector(".detail > div");
      if (m[1] === "pair" && box && box.showPair) box.showPair();
      tr.scrollIntoView();
    });
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

  function start(index) {
    data = index; T = data.trials; n = T.key.length;
    options(document.getElementById("f-model"), data.models);
    options(document.getElementById("f-condition"), data.conditions.map(function (c) { return c.key; }));
    /* one label filter per monitor the run has (the page names them: reports/html.py) */
    monitors = Array.prototype.map.call(document.querySelectorAll("#filters select[data-monitor]"), function (select) {
      return { name: select.dataset.monitor, heading: select.dataset.heading, select: select };
    });
    monitors.forEach(function (m) { options(m.select, labelUniques(m.name)); });
    options(document.getElementById("f-parse"), uniques("parse_status"));
    Array.prototype.forEach.call(document.querySelectorAll("#filters select"), function (select) {
      select.addEventListener("change", applyFilters);
    });
    var timer = null;
    document.getElementById("f-search").addEventListener("input", function () {
      clearTimeout(timer); timer = setTimeout(applyFilters, 200);
    });
    document.getElementById("f-search").addEventListener("change", function () { clearTimeout(timer); applyFilters(); });
    document.getElementById("p-prev").addEventListener("click", function () { page--; render(); });
    document.getElementById("p-next").addEventListener("click", function () { page++; render(); });
    applyFilters();
    window.addEventListener("hashchange", function () { track(openFromHash()); });
    document.body.dataset.ready = "1";
    return track(openFromHash());
  }

  sortableTables();
  /* resolves once the first page of trials shows (and the trial of a #trial= link is open) */
  window.afsimReport = decode("trial-index").then(start).catch(function (error) {
    document.getElementById("t-count").textContent = "could not load the trials: " + error.message;
    throw error;
  });
})();
