// The on-call board's script (served inline under the page's CSP nonce).
// Rows are built with createElement/textContent only: no markup from data, ever.
// Every time shown is on the policy's wall clock (config.tz), labelled, like the chart's axis.
// An outage incident is one row; its posts are folded under it (shown with its expand button).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("board-config").textContent);
  var t = config.texts, offset = 0, body = document.getElementById("rows"), departments = config.departments;
  var expanded = new Set(), incidentReply = config.incident_reply;
  var quiet = document.getElementById("quiet"), quietSection = document.getElementById("quiet-section");
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
      tr.querySelector("td.clock .countdown").textContent = clockText(left);
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
  function clockCell(tr, left, due) {
    var td = cell(tr, "clock"), countdown = document.createElement("span"), when = document.createElement("div");
    // left null: a radar item that carries no promise (radar.first_response = "none"), no countdown
    countdown.className = "countdown"; countdown.textContent = left === null ? t.no_promise : clockText(left);
    when.className = "due"; when.textContent = due;
    td.appendChild(countdown); td.appendChild(when);
  }
  function ackCell(tr, acknowledged, by, cls, label) {
    var ack = cell(tr, "ack-cell");
    if (acknowledged) {
      var done = document.createElement("span");
      done.className = "acked"; done.textContent = t.acknowledged; done.title = by || "";
      ack.appendChild(done);
    } else {
      ack.appendChild(button(cls, label));
    }
  }
  function expandText(group) {
    return (expanded.has(group.incident_id) ? t.hide_posts : t.show_posts) + " (" + group.posts + ")";
  }
  function incidentRow(group) {
    var tr = document.createElement("tr");
    tr.dataset.incidentId = group.incident_id;
    tr.dataset.posts = String(group.posts);
    tr.dataset.due = String(Date.parse(group.oldest_due));
    tr.className = "incident state-" + group.state;
    clockCell(tr, group.seconds_left, t.oldest_due + " " + group.oldest_due_text);
    var badge = document.createElement("span");
    badge.className = "badge incident"; badge.textContent = t.incident;
    cell(tr, "").appendChild(badge);
    var text = cell(tr, "text"), head = document.createElement("b"), summary = document.createElement("div");
    text.colSpan = 3;
    head.className = "headline"; head.textContent = group.headline;
    summary.className = "summary"; summary.textContent = group.open_text;
    var expand = button("expand", expandText(group));
    expand.setAttribute("aria-expanded", String(expanded.has(group.incident_id)));
    text.appendChild(head); text.appendChild(summary); text.appendChild(expand);
    cell(tr, "level", group.alert_level ? String(group.alert_level) : "\u2013");
    ackCell(tr, group.acknowledged, "", "ack-incident", t.ack_incident);
    var reply = cell(tr, "handoff");
    if (incidentReply) reply.appendChild(button("reply-incident", t.reply_incident));
    return tr;
  }
  function row(item) {
    var tr = document.createElement("tr");
    tr.dataset.docId = item.doc_id;
    if (item.due_at) tr.dataset.due = String(Date.parse(item.due_at));
    tr.className = "state-" + item.state;
    if (item.radar) tr.classList.add("radar");
    if (item.incident_id) {
      tr.classList.add("member");
      tr.dataset.memberOf = item.incident_id;
      tr.hidden = !expanded.has(item.incident_id);
    }
    clockCell(tr, item.seconds_left, item.due_text);
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
    ackCell(tr, item.acknowledged, item.acknowledged_by, "ack", t.acknowledge);
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
  function quietRow(item) {
    // A closing message that started no promise; "Needs a reply" reopens it.
    var tr = document.createElement("tr");
    tr.dataset.docId = item.doc_id;
    cell(tr, "platform", config.platforms[item.platform] || item.platform);
    cell(tr, "author", item.author);
    cell(tr, "text", item.text);
    cell(tr, "reopen").appendChild(button("reopen-btn", t.reopen));
    return tr;
  }
  function renderQuiet(list) {
    quiet.replaceChildren.apply(quiet, list.map(quietRow));
    quietSection.hidden = !list.length;
  }
  function setText(id, value) { var el = document.getElementById(id); if (el) el.textContent = value; }
  function percent(rate) { return rate === null ? "\u2013" : Math.round(rate * 100) + " %"; }
  function seconds(s) {
    if (s === null) return "\u2013";
    if (s < 90) return Math.round(s) + " s";
    if (s < 5400) return Math.round(s / 60) + " min";
    var hours = (s / 3600).toFixed(1);
    return (config.lang === "de" ? hours.replace(".", ",") : hours) + " h";
  }
  function lines(data) {
    // The same order as the server's Board.lines(): an incident where its most urgent post stands,
    // its posts right under it.
    var groups = new Map(), shown = new Set(), out = [];
    (data.incidents || []).forEach(function (g) { groups.set(g.incident_id, g); });
    data.items.forEach(function (item) {
      var group = item.incident_id ? groups.get(item.incident_id) : undefined;
      if (!group) { out.push(row(item)); return; }
      if (shown.has(group.incident_id)) return;
      shown.add(group.incident_id);
      out.push(incidentRow(group));
      data.items.forEach(function (member) { if (member.incident_id === group.incident_id) out.push(row(member)); });
    });
    return out;
  }
  function render(data) {
    offset = Date.parse(data.now) - Date.now();
    departments = data.departments;
    incidentReply = data.incident_reply;
    var rows = lines(data);
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
    renderQuiet(data.no_reply_needed || []);
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
  function act(action, payload, label) {
    // Resolves true when the server did it (the board is then refreshed), false when it failed
    // (the reason is in the status line): callers change the page only on true.
    label = label || action;
    return fetch(query({action: action}), {method: "POST", cache: "no-store",
      headers: {"Content-Type": "application/json", "X-Hilft-Board": "1"}, body: JSON.stringify(payload)})
      .then(function (r) {
        return r.json().catch(function () { return {}; })
          .then(function (b) { if (!r.ok) throw new Error(b.error || r.status); return b; });
      })
      .then(function (b) { setText("status", (t.actions[label] || label) + ": " + (t.outcomes[b.outcome] || b.outcome));
                           return refresh().then(function () { return true; }); })
      .catch(function (err) {
        setText("status", (t.actions[label] || label) + " " + t.failed + ": " + err.message);
        return false;
      });
  }
  function enableAgainIfFailed(target) {
    return function (done) { if (!done) target.disabled = false; return done; };
  }
  function incidentClick(target, tr) {
    var id = tr.dataset.incidentId;
    if (target.classList.contains("expand")) {
      if (expanded.has(id)) expanded.delete(id); else expanded.add(id);
      body.querySelectorAll("tr[data-member-of]").forEach(function (member) {
        if (member.dataset.memberOf === id) member.hidden = !expanded.has(id);
      });
      target.setAttribute("aria-expanded", String(expanded.has(id)));
      target.textContent = expandText({incident_id: id, posts: tr.dataset.posts});
      return;
    }
    if (target.classList.contains("ack-incident")) {
      target.disabled = true;
      act("ack_incident", {incident_id: id});
    }
    if (target.classList.contains("reply-incident")) {
      // Staff read the text before it goes out publicly, under the brand's name, to every post.
      if (!window.confirm(t.reply_confirm + "\n\n" + incidentReply)) return;
      target.disabled = true;
      act("ack_incident", {incident_id: id, reply: true}, "reply_incident");
    }
  }
  body.addEventListener("click", function (event) {
    var target = event.target.closest("button"), incident = event.target.closest("tr[data-incident-id]");
    if (target && incident) { incidentClick(target, incident); return; }
    var tr = event.target.closest("tr[data-doc-id]");
    if (!target || !tr) return;
    target.disabled = true;
    if (target.classList.contains("ack")) act("ack", {doc_id: tr.dataset.docId}).then(enableAgainIfFailed(target));
    if (target.classList.contains("handoff-btn"))
      act("handoff", {doc_id: tr.dataset.docId, department: tr.querySelector("select").value})
        .then(enableAgainIfFailed(target));
    if (target.classList.contains("hold-btn")) {
      // Staff read, and may edit, the text before it goes out publicly under the brand's name.
      var text = window.prompt(t.hold_prompt, target.dataset.text);
      if (text === null || !text.trim()) { target.disabled = false; return; }
      act("hold", {doc_id: tr.dataset.docId, text: text}).then(enableAgainIfFailed(target));
    }
  });
  quiet.addEventListener("click", function (event) {
    var target = event.target.closest("button.reopen-btn"), tr = event.target.closest("tr[data-doc-id]");
    if (!target || !tr) return;
    target.disabled = true;
    tr.classList.remove("failed");
    // The row leaves only when the post was reopened; a failure keeps it, marked, to try again.
    act("reopen", {doc_id: tr.dataset.docId}).then(function (done) {
      if (done) { tr.remove(); quietSection.hidden = !quiet.children.length; return; }
      tr.classList.add("failed");
      target.disabled = false;
    });
  });
  setInterval(tick, 1000);
  setInterval(refresh, config.refresh_ms);
  tick();
})();
