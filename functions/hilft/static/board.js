// The on-call board's script (served inline under the page's CSP nonce).
// Rows are built with createElement/textContent only: no markup from data, ever.
// Every time shown is on the policy's wall clock (config.tz), labelled, like the chart's axis.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("board-config").textContent);
  var t = config.texts, offset = 0, body = document.getElementById("rows"), departments = config.departments;
  var clockFormat = new Intl.DateTimeFormat(config.lang, {timeZone: config.tz, hour: "2-digit", minute: "2-digit",
                                                          second: "2-digit", hour12: false});
  function clockText(left) {
    var m = Math.abs(Math.trunc(left)), h = Math.floor(m / 3600), mm = Math.floor(m % 3600 / 60), s = m % 60;
    var text = (h ? h + ":" + String(mm).padStart(2, "0") : String(mm)) + ":" + String(s).padStart(2, "0");
    return (left < 0 ? t.late : t.in) + " " + text;
  }
  function tick() {
    var now = Date.now() + offset;
    body.querySelectorAll("tr[data-due]").forEach(function (tr) {
      var left = (Number(tr.dataset.due) - now) / 1000;
      tr.querySelector("td.clock").textContent = clockText(left);
    });
  }
  function cell(tr, cls, text) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    if (text !== undefined) td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function button(cls, text) {
    var b = document.createElement("button");
    b.type = "button"; b.className = cls; b.textContent = text;
    return b;
  }
  function row(item) {
    var tr = document.createElement("tr");
    tr.dataset.docId = item.doc_id;
    tr.dataset.due = String(Date.parse(item.due_at));
    tr.className = "state-" + item.state;
    cell(tr, "clock", clockText(item.seconds_left));
    var badge = document.createElement("span");
    badge.className = "badge " + item.state;
    badge.textContent = t.states[item.state] || item.state;
    cell(tr, "").appendChild(badge);
    cell(tr, "platform", config.platforms[item.platform] || item.platform);
    cell(tr, "author", item.author);
    var text = cell(tr, "text", item.text), link = document.createElement("div");
    link.className = "link";
    if (item.url) {
      var a = document.createElement("a");
      a.href = item.url; a.rel = "noopener noreferrer"; a.target = "_blank"; a.textContent = t.open_post;
      link.appendChild(a);
    }
    text.appendChild(link);
    cell(tr, "level", item.alert_level ? String(item.alert_level) : "\u2013");
    var ack = cell(tr, "ack-cell");
    if (item.acknowledged) {
      var done = document.createElement("span");
      done.className = "acked"; done.textContent = t.acknowledged; done.title = item.acknowledged_by || "";
      ack.appendChild(done);
    } else {
      ack.appendChild(button("ack", t.acknowledge));
    }
    var handoff = cell(tr, "handoff"), select = document.createElement("select");
    select.setAttribute("aria-label", t.department);
    departments.forEach(function (d) {
      var option = document.createElement("option");
      option.value = d.name; option.textContent = d.label; option.selected = d.name === item.department;
      select.appendChild(option);
    });
    handoff.appendChild(select); handoff.appendChild(button("handoff-btn", t.hand_off));
    if (item.holding_text) {
      var hold = button("hold-btn", t.hold);
      hold.dataset.text = item.holding_text;
      handoff.appendChild(document.createTextNode(" ")); handoff.appendChild(hold);
    }
    return tr;
  }
  function setText(id, value) { var el = document.getElementById(id); if (el) el.textContent = value; }
  function percent(rate) { return rate === null ? "\u2013" : Math.round(rate * 100) + " %"; }
  function seconds(s) {
    if (s === null) return "\u2013";
    if (s < 90) return Math.round(s) + " s";
    return s < 5400 ? Math.round(s / 60) + " min" : (s / 3600).toFixed(1) + " h";
  }
  function render(data) {
    offset = Date.parse(data.now) - Date.now();
    departments = data.departments;
    var rows = data.items.map(row);
    if (!rows.length) {
      var tr = document.createElement("tr"), td = cell(tr, "empty", t.nothing);
      td.colSpan = 8; rows = [tr];
    }
    body.replaceChildren.apply(body, rows);
    setText("n-overdue", String(data.counts.overdue));
    setText("n-at-risk", String(data.counts.at_risk));
    setText("n-open", String(data.counts.open));
    setText("hit-rate", percent(data.stats.hit_rate));
    setText("p50", seconds(data.stats.p50_seconds));
    setText("p90", seconds(data.stats.p90_seconds));
  }
  function query(extra) {
    var params = new URLSearchParams(location.search);
    Object.keys(extra).forEach(function (k) { params.set(k, extra[k]); });
    return "?" + params.toString();
  }
  function refresh() {
    return fetch(query({format: "json"}), {headers: {Accept: "application/json"}, cache: "no-store"})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        render(data);
        setText("status", t.updated + " " + clockFormat.format(new Date(Date.parse(data.now))) + " " + config.tz_label);
      })
      .then(refreshChart)
      .catch(function (err) { setText("status", t.refresh_failed + " (" + err.message + ")"); });
  }
  function refreshChart() {
    return fetch(query({format: "svg"}), {cache: "no-store"}).then(function (r) { return r.text(); })
      .then(function (svg) {
        var doc = new DOMParser().parseFromString(svg, "image/svg+xml");
        var old = document.getElementById("chart"), fresh = doc.documentElement;
        if (old && fresh.localName === "svg") old.replaceWith(document.importNode(fresh, true));
      });
  }
  function act(action, payload) {
    return fetch(query({action: action}), {method: "POST", cache: "no-store",
      headers: {"Content-Type": "application/json", "X-Hilft-Board": "1"}, body: JSON.stringify(payload)})
      .then(function (r) {
        return r.json().then(function (b) { if (!r.ok) throw new Error(b.error || r.status); return b; });
      })
      .then(function (b) { setText("status", (t.actions[action] || action) + ": " + (t.outcomes[b.outcome] || b.outcome));
                           return refresh(); })
      .catch(function (err) { setText("status", (t.actions[action] || action) + " " + t.failed + ": " + err.message); });
  }
  body.addEventListener("click", function (event) {
    var target = event.target.closest("button"), tr = event.target.closest("tr[data-doc-id]");
    if (!target || !tr) return;
    target.disabled = true;
    if (target.classList.contains("ack")) act("ack", {doc_id: tr.dataset.docId});
    if (target.classList.contains("handoff-btn"))
      act("handoff", {doc_id: tr.dataset.docId, department: tr.querySelector("select").value});
    if (target.classList.contains("hold-btn")) {
      // Staff read, and may edit, the text before it goes out publicly under the brand's name.
      var text = window.prompt(t.hold_prompt, target.dataset.text);
      if (text === null || !text.trim()) { target.disabled = false; return; }
      act("hold", {doc_id: tr.dataset.docId, text: text});
    }
  });
  var incidents = document.getElementById("incidents");
  if (incidents) incidents.addEventListener("click", function (event) {
    var target = event.target.closest("button.ack-incident"), tr = event.target.closest("tr[data-incident-id]");
    if (!target || !tr) return;
    target.disabled = true;
    act("ack_incident", {incident_id: tr.dataset.incidentId});
  });
  var quiet = document.getElementById("quiet");
  if (quiet) quiet.addEventListener("click", function (event) {
    var target = event.target.closest("button.reopen-btn"), tr = event.target.closest("tr[data-doc-id]");
    if (!target || !tr) return;
    target.disabled = true;
    act("reopen", {doc_id: tr.dataset.docId}).then(function () { tr.remove(); });
  });
  setInterval(tick, 1000);
  setInterval(refresh, config.refresh_ms);
  tick();
})();
