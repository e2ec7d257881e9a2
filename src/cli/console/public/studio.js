// The rehearsal studio: the seized group as a member sees it, the control
// room (where the author answers requests for approval as the supervisor),
// the bot's private chats, the scenario's timeline and the audit log, all
// live. Every server-sent event carries the whole view, so a tab that
// reconnects, or a second tab on the same rehearsal, is up to date at once.
(() => {
  const { el, add, api, simTime } = window.W;
  const app = document.getElementById("app");
  const id = location.pathname.split("/").pop();
  let view;

  const bar = add(app, el("section", undefined, "bar"));
  const title = add(bar, el("h1", "Rehearsal"));
  const state = add(bar, el("span", "connecting…", "state"));
  state.id = "state";
  state.setAttribute("role", "status");
  const clock = add(bar, el("span", "", "clock"));
  clock.id = "clock";
  const controls = add(bar, el("span", undefined, "controls"));
  const pause = add(controls, el("button", "Pause"));
  pause.id = "pause";
  const step = add(controls, el("button", "Step"));
  step.id = "step";
  const speedLabel = add(controls, el("label", "Speed "));
  const speed = add(speedLabel, document.createElement("select"));
  speed.id = "speed";
  for (const [v, t] of [
    [60, "1 min/s"],
    [600, "10 min/s"],
    [3600, "1 hour/s"],
    [86400, "1 day/s"],
    [0, "fastest"],
  ]) {
    const o = add(speed, el("option", t));
    o.value = String(v);
  }
  const live = add(bar, el("span", "", "live"));
  live.id = "connection";
  const banner = add(app, el("div"));
  banner.id = "banner";

  const grid = add(app, el("div", undefined, "panes"));
  function pane(idName, heading) {
    const s = add(grid, el("section", undefined, `pane ${idName}`));
    s.id = idName;
    s.setAttribute("aria-label", heading);
    add(s, el("h2", heading));
    return add(s, el("div", undefined, "body"));
  }
  const group = pane("member-view", "The group, as a member sees it");
  const room = pane("control-room", "Control room (you are the supervisor)");
  const privates = pane("private-chats", "Private chats with the bot");
  const timeline = pane("timeline", "Scenario timeline");
  const audit = pane("audit", "Audit log, as it is written");
  const transcript = pane("transcript", "Transcript");

  pause.addEventListener("click", () =>
    control(view && view.state === "paused" ? "resume" : "pause"),
  );
  step.addEventListener("click", () => control("step"));
  speed.addEventListener("change", () => control("speed", Number(speed.value)));
  function control(action, value) {
    const body = { action };
    if (value !== undefined) body.speed = value;
    api("POST", `/api/rehearsals/${id}/control`, body).catch((err) => showError(err.message));
  }
  function showError(text) {
    banner.textContent = "";
    add(banner, el("p", text, "error"));
  }

  function keepBottom(box, fill) {
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    fill();
    if (atBottom) box.scrollTop = box.scrollHeight;
  }
  function bubble(m, opts) {
    const mine = opts && opts.botId !== undefined ? m.from.bot : false;
    const b = el(
      "div",
      undefined,
      `bubble${mine ? " bot" : ""}${m.deleted ? " deleted" : ""}${m.service ? " service" : ""}`,
    );
    b.setAttribute("data-message-id", String(m.id));
    if (m.service) {
      b.textContent = visible(`${m.from.name}: ${m.service}`);
      return b;
    }
    add(b, el("div", m.from.name, "who"));
    if (m.replyTo !== undefined) {
      const quoted = (opts.messages || []).find((x) => x.id === m.replyTo);
      add(
        b,
        el(
          "div",
          quoted
            ? `↩ ${quoted.from.name}: ${(quoted.text || quoted.media || "").slice(0, 80)}`
            : `↩ message ${m.replyTo}`,
          "reply",
        ),
      );
    }
    if (m.media) add(b, el("div", `[${m.media}]`, "media"));
    if (m.text) add(b, el("div", m.text, "text"));
    if (m.deleted) add(b, el("div", "deleted by Warden: members no longer see this", "mark"));
    if (m.edited) add(b, el("div", "edited", "mark"));
    if (m.buttons && opts.answerable) {
      const row = add(b, el("div", undefined, "buttons"));
      for (const btn of m.buttons) {
        const pending = opts.answerable.some(
          (a) => a.messageId === m.id && a.buttons.some((x) => x.data === btn.data),
        );
        const button = add(row, el("button", btn.text, pending ? "answer" : ""));
        button.disabled = !pending;
        if (pending)
          button.addEventListener("click", async () => {
            button.disabled = true;
            try {
              await api("POST", `/api/rehearsals/${id}/answer`, {
                messageId: m.id,
                data: btn.data,
              });
            } catch (err) {
              showError(err.message);
            }
          });
      }
    }
    add(b, el("div", new Date(m.date * 1000).toISOString().slice(11, 16), "time"));
    return b;
  }

  function drawGroup(g) {
    group.textContent = "";
    const head = add(group, el("div", undefined, "chat-head"));
    const avatar = add(head, el("div", g.title.slice(0, 1), `avatar${g.hasPhoto ? " photo" : ""}`));
    avatar.title = g.hasPhoto ? "the group has a photo" : "no group photo";
    const names = add(head, el("div"));
    const t = add(names, el("div", g.title, "title"));
    t.id = "group-title";
    add(
      names,
      el(
        "div",
        `${g.members.length} members · ${g.alias}${g.hasPhoto ? " · photo set" : ""}`,
        "sub",
      ),
    );
    if (g.description) add(group, el("div", g.description, "description"));
    const pinned = add(group, el("div", undefined, "pinned"));
    pinned.id = "pinned";
    const last = g.pinned[g.pinned.length - 1];
    if (last) {
      add(pinned, el("span", "Pinned: ", "label"));
      add(pinned, el("span", (last.text || last.media || "").split("\n")[0], "pinned-text"));
    } else add(pinned, el("span", "nothing pinned", "sub"));
    const list = add(group, el("div", undefined, "messages"));
    list.id = "group-messages";
    for (const m of g.messages) add(list, bubble(m, { botId: true, messages: g.messages }));
    list.scrollTop = list.scrollHeight;
    const perms = add(group, el("div", undefined, "permissions"));
    perms.id = "permissions";
    const on = g.permissions.filter((p) => p.on).map((p) => p.name);
    const off = g.permissions.filter((p) => !p.on).map((p) => p.name);
    add(perms, el("div", `Members may: ${on.join(", ") || "nothing"}`));
    if (off.length) add(perms, el("div", `Not allowed: ${off.join(", ")}`, "sub"));
    const restricted = g.members.filter((m) => m.status === "restricted" || m.status === "kicked");
    if (restricted.length)
      add(
        perms,
        el(
          "div",
          `Restricted or banned: ${restricted.map((m) => `${m.name} (${m.status}${m.until ? ` until ${new Date(m.until * 1000).toISOString().slice(0, 16)}` : ""})`).join(", ")}`,
          "restricted",
        ),
      );
  }

  function drawRoom(r, approvals) {
    room.textContent = "";
    if (approvals.length)
      add(
        room,
        el(
          "p",
          `${approvals.length} request${approvals.length === 1 ? "" : "s"} for approval wait for you; the simulated clock waits too.`,
          "attention",
        ),
      );
    const list = add(room, el("div", undefined, "messages"));
    for (const m of r.messages)
      add(list, bubble(m, { botId: true, messages: r.messages, answerable: approvals }));
    list.scrollTop = list.scrollHeight;
  }

  let openChat;
  function drawPrivates(chats) {
    privates.textContent = "";
    if (!chats.length) {
      add(privates, el("p", "No member has written to the bot yet.", "sub"));
      return;
    }
    const tabs = add(privates, el("div", undefined, "tabs"));
    tabs.setAttribute("role", "tablist");
    if (!chats.some((c) => c.user.id === openChat)) openChat = chats[0].user.id;
    for (const c of chats) {
      const b = add(tabs, el("button", `${c.user.name} (${c.messages.length})`));
      b.setAttribute("role", "tab");
      b.setAttribute("aria-selected", String(c.user.id === openChat));
      b.addEventListener("click", () => {
        openChat = c.user.id;
        drawPrivates(chats);
      });
    }
    const chat = chats.find((c) => c.user.id === openChat);
    const list = add(privates, el("div", undefined, "messages"));
    for (const m of chat.messages) add(list, bubble(m, { botId: true, messages: chat.messages }));
    const answers = (view.audit || []).filter(
      (e) =>
        e.op === "collect" &&
        e.params &&
        e.params.purpose === "scenario conversation answer" &&
        e.target &&
        e.target.chat_id === chat.user.id,
    );
    for (const a of answers)
      add(
        privates,
        el("div", `✔ answer recorded as “${a.params.name}” (audit #${a.seq})`, "recorded"),
      );
    list.scrollTop = list.scrollHeight;
  }

  function drawTimeline(t) {
    timeline.textContent = "";
    if (!t) return;
    add(timeline, el("div", `${t.title}${t.status ? ` — run ${t.status}` : ""}`, "title"));
    const ol = add(timeline, el("ol", undefined, "phases"));
    for (const p of t.phases) {
      const li = add(ol, el("li", undefined, p.current ? "current" : ""));
      add(li, el("strong", `${p.id}${p.title ? ` — ${p.title}` : ""}${p.current ? " (now)" : ""}`));
      const steps = add(li, el("ul", undefined, "steps"));
      for (const s of p.steps)
        add(
          steps,
          el(
            "li",
            `${s.state === "done" ? "✓" : s.state === "now" ? "▶" : "·"} ${s.id} (${s.kind})${s.seq ? ` #${s.seq}` : ""}`,
            s.state,
          ),
        );
      for (const tr of p.triggers)
        add(
          steps,
          el(
            "li",
            `⚡ trigger ${tr.id} on ${tr.on}: fired ${tr.fired}×`,
            tr.fired ? "fired" : "later",
          ),
        );
    }
    const ev = add(timeline, el("ol", undefined, "events"));
    for (const e of t.events.slice(-40))
      add(ev, el("li", `${simTime(e.at)} #${e.seq} ${e.text}`, e.kind.replace(/\./g, "-")));
  }

  function drawAudit(entries) {
    keepBottom(audit, () => {
      const have = audit.childElementCount;
      for (const e of entries.slice(have)) {
        const t = e.target || {};
        const r = e.result
          ? e.result.ok === true
            ? "ok"
            : e.result.ok === "unknown"
              ? "unknown"
              : `failed: ${e.result.description || ""}`
          : "";
        const row = add(
          audit,
          el(
            "div",
            `#${e.seq} ${simTime(e.ts)} ${e.op} ${e.phase} · ${e.actor.name || e.actor.kind}${t.alias ? ` · ${t.alias}` : ""}${t.user_ids ? ` · members ${t.user_ids.join(", ")}` : ""}${r ? ` · ${r}` : ""}`,
            `entry ${e.phase} ${e.result && e.result.ok !== true ? "problem" : ""}`,
          ),
        );
        row.setAttribute("data-seq", String(e.seq));
      }
    });
  }

  function drawTranscript(lines) {
    keepBottom(transcript, () => {
      const have = transcript.childElementCount;
      for (const line of lines.slice(have)) add(transcript, el("div", line, "line"));
    });
  }

  function draw(v) {
    view = v;
    title.textContent = visible(`Rehearsal of ${v.scenario}`);
    state.textContent = v.state;
    state.className = `state ${v.state}`;
    clock.textContent = v.clock ? `simulated ${simTime(v.clock)} UTC` : "";
    pause.textContent = v.state === "paused" ? "Resume" : "Pause";
    const playing = v.state === "running" || v.state === "paused";
    pause.disabled = !playing;
    step.disabled = v.state !== "paused";
    speed.disabled = !playing;
    if (document.activeElement !== speed) speed.value = String(v.speed);
    banner.textContent = "";
    if (v.state === "failed")
      add(banner, el("p", `The rehearsal failed: ${v.error}`, "error")).id = "failure";
    if (v.result) {
      const r = v.result;
      const box = add(banner, el("div", undefined, `result ${r.ok ? "ok" : "failed"}`));
      box.id = "result";
      add(
        box,
        el(
          "strong",
          r.ok ? "The run finished and its audit log verified." : "The rehearsal found problems.",
        ),
      );
      add(
        box,
        el(
          "div",
          `Run ${r.runStatus}; audit log ${r.verified ? "verified" : "NOT verified"} (${r.entries} entries)${r.failures.length ? `; ${r.failures.length} step(s) failed: ${r.failures.join("; ")}` : ""}${r.missingRights.length ? `; missing rights: ${r.missingRights.join(", ")}` : ""}`,
        ),
      );
      if (r.exportDir) {
        const a = add(box, el("a", "Read the audit bundle as an auditor"));
        a.href = `/bundle?dir=${encodeURIComponent(r.exportDir)}`;
        a.id = "open-bundle";
      }
    }
    if (v.chats) {
      drawGroup(v.chats.group);
      drawRoom(v.chats.controlRoom, v.approvals);
      drawPrivates(v.chats.private);
    }
    drawTimeline(v.timeline);
    drawAudit(v.audit);
    drawTranscript(v.transcript);
  }

  const source = new EventSource(`/api/rehearsals/${id}/events`);
  source.addEventListener("view", (ev) => draw(JSON.parse(ev.data)));
  source.addEventListener("open", () => {
    live.textContent = "live";
    live.className = "live on";
  });
  source.addEventListener("error", () => {
    live.textContent = "reconnecting…";
    live.className = "live off";
  });
})();
