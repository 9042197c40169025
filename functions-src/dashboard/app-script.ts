/**
 * The dashboard's script, plain JavaScript served as /dashboard/app.js (no build step). It signs in, renders the
 * overview, and reads the event stream with fetch (EventSource cannot listen to every event name at once), resuming
 * with Last-Event-ID after a drop. Every value reaches the page as text nodes, never as HTML.
 */
export const APP_JS = String.raw`(function () {
  "use strict";
  var state = { me: null, csrf: null, skew: 0, lastId: null, retry: 1000, stream: null, timer: null, busy: false, again: false };
  var MAX_TIMELINE = 200;

  function $(id) { return document.getElementById(id); }
  function url(path) { return new URL("dashboard/" + path, document.baseURI).toString(); }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "class") el.className = attrs[k];
      else if (k === "text") el.textContent = attrs[k];
      else el.setAttribute(k, attrs[k]);
    });
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
    el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
  function empty(text) { return h("p", { class: "empty" }, text); }
  function badge(cls, text) { return h("span", { class: "badge " + cls }, text); }

  function now() { return Date.now() + state.skew; }
  function clock(iso) { return new Date(iso).toISOString().slice(11, 19) + "Z"; }
  function span(ms) {
    var s = Math.round(Math.abs(ms) / 1000);
    if (s < 90) return s + " s";
    if (s < 5400) return Math.round(s / 60) + " min";
    if (s < 129600) return Math.round(s / 3600) + " h";
    return Math.round(s / 86400) + " d";
  }
  function ago(iso) { return iso ? span(now() - Date.parse(iso)) + " ago" : "never"; }
  function until(iso) { var ms = Date.parse(iso) - now(); return (ms > 0 ? "in " + span(ms) : span(ms) + " ago") + " (" + clock(iso) + ")"; }
  function short(sha) { return sha ? sha.slice(0, 7) : ""; }
  function live(text) { $("live").textContent = text; }

  async function api(method, path, body) {
    var headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
    var res = await fetch(url(path), {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    var data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      var err = new Error((data && data.error && data.error.message) || "HTTP " + res.status);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  // Signing in and out.
  function showSignIn(message) {
    stopStream();
    state.me = null; state.csrf = null;
    $("board").hidden = true; $("logout").hidden = true; $("signin").hidden = false;
    $("who").textContent = "";
    $("signin-error").textContent = message || "";
    live("signed out");
    $("key").focus();
  }
  function signedIn(me) {
    state.me = me; state.csrf = me.csrf_token;
    $("signin").hidden = true; $("board").hidden = false; $("logout").hidden = false;
    $("who").textContent = me.agent_id + " (" + me.scope + ")";
    clear($("timeline"));
    refresh(true);
  }
  $("signin-form").addEventListener("submit", async function (ev) {
    ev.preventDefault();
    $("signin-error").textContent = "";
    var agent = $("agent").value.trim();
    try {
      var me = await api("POST", "api/login", { key: $("key").value, agent_id: agent || undefined });
      $("key").value = "";
      signedIn(me);
    } catch (e) {
      $("signin-error").textContent = e.message;
    }
  });
  $("logout").addEventListener("click", async function () {
    try { await api("POST", "api/logout", {}); } catch (e) { /* signed out either way */ }
    showSignIn("Signed out.");
  });

  // The overview, read again (at most every 300 ms) whenever an event arrives.
  function scheduleRefresh() {
    if (state.timer) return;
    state.timer = setTimeout(function () { state.timer = null; refresh(false); }, 300);
  }
  async function refresh(first) {
    if (state.busy) { state.again = true; return; }
    state.busy = true;
    try {
      var o = await api("GET", "api/overview");
      state.skew = Date.parse(o.now) - Date.now();
      render(o);
      if (first) {
        o.recent_events.slice().reverse().forEach(addEvent);
        startStream(o.events_cursor);
      }
    } catch (e) {
      if (e.status === 401) showSignIn("Your session ended; sign in again.");
      else live("could not read the overview: " + e.message);
    } finally {
      state.busy = false;
      if (state.again) { state.again = false; scheduleRefresh(); }
    }
  }

  // The event stream.
  function stopStream() { if (state.stream) state.stream.abort(); state.stream = null; }
  function startStream(cursor) {
    stopStream();
    state.lastId = String(cursor);
    var ctl = new AbortController();
    state.stream = ctl;
    follow(ctl);
  }
  async function follow(ctl) {
    while (!ctl.signal.aborted) {
      try {
        var res = await fetch(url("api/events"), {
          headers: { Accept: "text/event-stream", "Last-Event-ID": state.lastId },
          credentials: "same-origin", signal: ctl.signal
        });
        if (res.status === 401) { showSignIn("Your session ended; sign in again."); return; }
        if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
        live("live");
        await read(res.body);
      } catch (e) {
        if (ctl.signal.aborted) return;
      }
      live("reconnecting…");
      await sleep(state.retry);
    }
  }
  async function read(body) {
    var reader = body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var r = await reader.read();
      if (r.done) return;
      buffer += decoder.decode(r.value, { stream: true });
      for (var cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
        block(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
      }
    }
  }
  function block(text) {
    var kind = "message", data = [], id = null;
    text.split("\n").forEach(function (line) {
      if (line.charAt(0) === ":") return;
      var colon = line.indexOf(":");
      var field = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") kind = value;
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
      else if (field === "retry" && /^\d+$/.test(value)) state.retry = Number(value);
    });
    if (id !== null) state.lastId = id;
    if (kind === "reset") { addNote("missed too many events while away: the page re-read the state"); scheduleRefresh(); return; }
    if (data.length === 0) return;
    try { addEvent(JSON.parse(data.join("\n"))); } catch (e) { return; }
    scheduleRefresh();
  }

  // The timeline.
  function describe(e) {
    var d = e.data || {}, parts = [];
    ["repo", "reason", "task_type", "tier", "status", "state", "holder", "lost_by", "cause", "attempts"].forEach(function (k) {
      if (d[k] !== undefined && d[k] !== null && d[k] !== "") parts.push(k + " " + d[k]);
    });
    return parts.join(" · ");
  }
  function addEvent(e) {
    var list = $("timeline");
    var li = h("li", { "data-kind": e.kind },
      h("time", { datetime: e.occurred_at }, clock(e.occurred_at)),
      h("code", null, e.kind),
      h("span", null, [e.agent_id ? h("strong", null, e.agent_id) : null, e.subject ? " " + e.subject : "",
        describe(e) ? h("span", { class: "meta" }, " " + describe(e)) : null]));
    list.insertBefore(li, list.firstChild);
    while (list.children.length > MAX_TIMELINE) list.removeChild(list.lastChild);
  }
  function addNote(text) {
    var list = $("timeline");
    list.insertBefore(h("li", null, h("time", null, clock(new Date(now()).toISOString())), h("code", null, "reset"), h("span", null, text)), list.firstChild);
  }

  // The sections.
  function render(o) {
    renderAgents(o); renderLocks(o); renderQueue(o); renderChangesets(o);
  }
  function renderAgents(o) {
    var box = clear($("agents"));
    if (o.agents.length === 0) { box.appendChild(empty("No agent has called yet.")); return; }
    box.appendChild(h("ul", { class: "rows" }, o.agents.map(function (a) {
      var holds = [];
      if (a.locks) holds.push(a.locks + (a.locks === 1 ? " lock: " : " locks: ") + a.lock_keys.join(", ") + (a.locks > a.lock_keys.length ? ", …" : ""));
      if (a.claims.length) holds.push(a.claims.length + (a.claims.length === 1 ? " task: " : " tasks: ") + a.claims.map(function (c) { return c.task_type; }).join(", "));
      return h("li", { "data-agent": a.agent_id },
        badge(a.alive ? "alive" : "dead", a.alive ? "alive" : "gone"),
        h("strong", null, a.agent_id), " ", h("span", { class: "meta" }, a.agent_type),
        h("div", { class: "meta" }, "last heartbeat " + ago(a.last_heartbeat_at) + " · seen " + ago(a.last_seen_at)),
        h("div", null, holds.length ? "holds " + holds.join("; ") : "holds nothing"));
    })));
  }
  // A directory lock is its own group; a file lock goes under the directory it sits in.
  function dirOf(key) {
    if (key.charAt(key.length - 1) === "/") return key;
    var i = key.lastIndexOf("/");
    return i < 0 ? "/" : key.slice(0, i + 1);
  }
  function renderLocks(o) {
    var box = clear($("locks"));
    if (o.locks.length === 0) { box.appendChild(empty("No active locks.")); return; }
    var groups = {}, order = [];
    o.locks.forEach(function (l) {
      var g = l.repo + " " + dirOf(l.key);
      if (!groups[g]) { groups[g] = []; order.push(g); }
      groups[g].push(l);
    });
    order.sort().forEach(function (g) {
      var first = groups[g][0];
      box.appendChild(h("h3", null, first.repo + ": " + dirOf(first.key)));
      box.appendChild(h("ul", { class: "rows" }, groups[g].map(function (l) {
        return h("li", { "data-lock": l.key },
          h("code", null, l.key), " ",
          badge(l.holder_alive ? "alive" : "dead", l.holder_alive ? "held" : "holder gone"),
          h("div", null, h("strong", null, l.agent_id), l.reason ? " — " + l.reason : ""),
          h("div", { class: "meta" }, "until " + until(l.expires_at) + " · since " + ago(l.acquired_at)));
      })));
    });
    if (o.lock_count > o.locks.length) box.appendChild(empty("and " + (o.lock_count - o.locks.length) + " more"));
  }
  function taskLine(t, extra) {
    return h("li", { "data-task": t.id }, h("code", null, t.task_type), " ", t.description || "", extra ? h("div", { class: "meta" }, extra) : null);
  }
  function renderQueue(o) {
    var q = o.queue, box = clear($("queue"));
    box.appendChild(h("ul", { class: "chips", "aria-label": "tasks per status" },
      ["pending", "claimed", "completed", "failed", "cancelled"].map(function (s) {
        return h("li", { class: s }, s + " " + (q.counts[s] || 0));
      })));
    box.appendChild(h("h3", null, "Ready"));
    box.appendChild(q.ready.length ? h("ul", { class: "rows" }, q.ready.map(function (t) {
      return taskLine(t, "priority " + t.priority + " · by " + t.submitted_by + " · " + ago(t.created_at));
    })) : empty("Nothing ready."));
    box.appendChild(h("h3", null, "Claimed"));
    box.appendChild(q.claimed.length ? h("ul", { class: "rows" }, q.claimed.map(function (t) {
      return taskLine(t, t.claimed_by + " · lease " + until(t.lease_expires_at) + " · attempt " + t.attempts);
    })) : empty("Nothing claimed."));
    box.appendChild(h("h3", null, "Waiting on dependencies"));
    box.appendChild(q.waiting.length ? h("ul", { class: "rows" }, q.waiting.map(function (t) {
      return h("li", { "data-task": t.id }, h("code", null, t.task_type), " waits for ",
        t.depends_on.map(function (d, i) {
          return [i ? ", " : "", h("code", null, d.task_type), " ", badge(d.status, d.status)];
        }));
    })) : empty("No dependency chains."));
    box.appendChild(h("h3", null, "Dead letters"));
    box.appendChild(q.dead.length ? h("ul", { class: "rows" }, q.dead.map(function (t) {
      return taskLine(t, "failed " + ago(t.finished_at) + " after " + t.attempts + " attempt(s): " + (t.error_message || "no message"));
    })) : empty("No failed tasks."));
  }
  function reviewControls(a) {
    var note = h("input", { type: "text", placeholder: "note", "aria-label": "Review note for " + a.repo + " " + short(a.commit_sha) });
    var error = h("span", { class: "error", role: "alert" });
    function decide(decision) {
      return async function (ev) {
        var buttons = ev.target.parentNode.querySelectorAll("button");
        buttons.forEach(function (b) { b.disabled = true; });
        try {
          await api("POST", "api/changesets/" + encodeURIComponent(a.changeset_id) + "/review",
            { decision: decision, note: note.value.trim() || (decision === "approve" ? "approved" : "rejected") + " from the dashboard" });
          scheduleRefresh();
        } catch (e) {
          error.textContent = e.message;
          buttons.forEach(function (b) { b.disabled = false; });
        }
      };
    }
    var approve = h("button", { type: "button", class: "approve" }, "Approve");
    var reject = h("button", { type: "button", class: "reject" }, "Reject");
    approve.addEventListener("click", decide("approve"));
    reject.addEventListener("click", decide("reject"));
    return h("div", { class: "review" }, note, approve, reject, error);
  }
  function renderChangesets(o) {
    var box = clear($("changesets"));
    var admin = state.me && state.me.scope === "admin";
    box.appendChild(h("h3", null, "Awaiting approval"));
    box.appendChild(o.approvals.length ? h("ul", { class: "rows" }, o.approvals.map(function (a) {
      return h("li", { "data-approval": a.changeset_id },
        h("strong", null, a.repo), " ", h("code", null, short(a.commit_sha)), " by " + a.agent_id,
        h("div", { class: "meta" }, "waiting " + ago(a.waiting_since)),
        admin ? reviewControls(a) : h("div", { class: "meta" }, "an admin approves or rejects it"));
    })) : empty("Nothing waits for a review."));
    box.appendChild(h("h3", null, "Recent"));
    box.appendChild(o.changesets.length ? h("ul", { class: "rows" }, o.changesets.map(function (c) {
      return h("li", { "data-changeset": c.id },
        h("strong", null, c.repo), " ", h("code", null, short(c.commit_sha)), " ", badge(c.state, c.state),
        " tier " + c.tier + " · " + c.file_count + " file(s) · by " + c.agent_id,
        h("ul", { class: "rows" }, c.results.map(function (r) {
          return h("li", { class: "meta" }, "tier " + r.tier + " ", badge(r.status, r.status.replace("_", " ")), r.summary ? " " + r.summary : "");
        })));
    })) : empty("No changesets yet."));
  }

  document.addEventListener("visibilitychange", function () { if (!document.hidden && state.me) scheduleRefresh(); });
  (async function start() {
    try { signedIn(await api("GET", "api/session")); }
    catch (e) { if (e.status === 401) showSignIn(""); else live("cannot reach the coordinator: " + e.message); }
  })();
})();
`;
