// The auditor's reading of an audit log, in the browser: the verdict in words,
// a summary, and one row per action (intent and outcome together) saying who,
// why, what and with what result. report.html inlines this file and the
// console serves it, so both read a log the same way. It runs offline, builds
// the page with createElement and textContent only (no string is parsed as
// HTML), and shows invisible formatting characters through `visible`, which
// the page defines from src/base/html.ts. Rows are drawn a page at a time, so
// a log of 10,000 entries is on screen as fast as one of ten.
/* global visible */
(() => {
  const PAGE = 100;

  const OPS = {
    "case.create": "opened the case",
    "case.close": "closed the case",
    "role.add": "gave a role",
    "role.remove": "took a role away",
    "chat.add": "put a chat under the case",
    config: "changed the case's settings",
    "approval.request": "asked a supervisor to approve",
    "approval.grant": "approved",
    "approval.reject": "rejected",
    "approval.expire": "approval expired",
    "scenario.start": "started a scenario run",
    "scenario.finish": "finished the scenario run",
    "scenario.abort": "aborted the scenario run",
    "scenario.fail": "scenario step failed",
    "scenario.step": "completed a scenario step",
    "scenario.phase": "moved to the next phase",
    "scenario.wait": "waits",
    "scenario.trigger": "a trigger fired",
    "scenario.snapshot": "snapshot of admins and members",
    "conversation.start": "started a private conversation",
    "conversation.say": "wrote in a private conversation",
    "conversation.end": "ended a private conversation",
    "conversation.timeout": "a private conversation timed out",
    collect: "kept as evidence",
    consult: "looked at collected data",
    disclose: "handed data over",
    erase: "erased data",
    warn: "posted a warning",
    announce: "posted an announcement",
    notify: "wrote to the control room",
    reply: "answered a member",
    freeze: "froze the group",
    thaw: "thawed the group",
    lockdown: "locked the group down",
    release: "released the group",
    restrict: "restricted members",
    ban: "banned members",
    unban: "unbanned members",
    kick: "removed members",
    purge: "deleted messages",
    pin: "pinned a message",
    unpin: "unpinned",
    refused: "refused",
  };
  // Parameters shown elsewhere in the row, or only noise to a reader.
  const HIDDEN_PARAMS = { run: 1, step: 1, approval: 1, reason: 1, why: 1 };

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = visible(text);
    if (cls) e.className = cls;
    return e;
  }
  function add(parent, child) {
    parent.appendChild(child);
    return child;
  }

  /** 1 day, 2 days, 3 hours, 90 seconds → "1 minute 30 seconds". */
  function duration(seconds) {
    const units = [
      [86400, "day"],
      [3600, "hour"],
      [60, "minute"],
      [1, "second"],
    ];
    const parts = [];
    let left = Math.round(seconds);
    for (const [size, name] of units) {
      const n = Math.floor(left / size);
      if (n > 0) parts.push(`${n} ${name}${n === 1 ? "" : "s"}`);
      left -= n * size;
      if (parts.length === 2) break;
    }
    return parts.length ? parts.join(" ") : "0 seconds";
  }
  /** Durations as Warden writes them (3d, 1d12h, 30m) in words. */
  function durationText(text) {
    const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(String(text));
    if (!m || String(text) === "") return String(text);
    return duration(
      Number(m[1] || 0) * 86400 +
        Number(m[2] || 0) * 3600 +
        Number(m[3] || 0) * 60 +
        Number(m[4] || 0),
    );
  }
  function when(ts) {
    return ts ? `${ts.slice(0, 10)} ${ts.slice(11, 19)}` : "";
  }

  /** The log read once: names of people and chats, runs and approvals, then one action per row. */
  function readLog(data) {
    const entries = data.entries;
    const names = Object.assign({}, data.names || {});
    const chats = {};
    const controlRooms = {};
    const runs = {};
    const runOfScenarioChat = {};
    const lastRunOfScenario = {};
    const requests = {};
    const grantsByUpdate = {};
    const stepGrants = [];
    const outcomes = {};
    for (const e of entries) {
      if (e.erased_by !== undefined) continue;
      const p = e.params || {};
      const t = e.target || {};
      if (e.actor && e.actor.id !== undefined && e.actor.name) names[e.actor.id] = e.actor.name;
      if (e.op === "role.add" && p.name && t.user_ids) names[t.user_ids[0]] = p.name;
      if (
        typeof p.name === "string" &&
        t.user_ids &&
        t.user_ids.length === 1 &&
        e.op === "collect" &&
        !p.conversation
      )
        names[t.user_ids[0]] = names[t.user_ids[0]] || p.name;
      if (t.chat_id !== undefined) {
        if (!chats[t.chat_id]) chats[t.chat_id] = { id: t.chat_id };
        const c = chats[t.chat_id];
        if (t.alias) c.alias = t.alias;
        if (e.op === "lockdown" && p.title) c.title = p.title;
      }
      if (e.op === "config" && p.control_room !== undefined) controlRooms[p.control_room] = true;
      if (e.phase === "outcome" && e.intent_seq !== undefined) outcomes[e.intent_seq] = e;
      if (e.op === "approval.request" && p.approval) requests[p.approval] = e;
      if (e.op === "approval.grant" && p.approval) {
        const req = requests[p.approval];
        if (req?.update_ids) for (const u of req.update_ids) grantsByUpdate[u] = e;
        if (req?.scenario) stepGrants.push({ grant: e, run: p.run, step: req.scenario.step });
      }
      if (e.op === "scenario.start" && e.phase === "info" && p.run) {
        let approvedBy;
        for (const u of e.update_ids || []) if (grantsByUpdate[u]) approvedBy = grantsByUpdate[u];
        runs[p.run] = { id: p.run, start: e, approvedBy };
        if (e.scenario) {
          runOfScenarioChat[`${e.scenario.id} ${t.chat_id}`] = runs[p.run];
          lastRunOfScenario[e.scenario.id] = runs[p.run];
        }
      }
      if (e.scenario && p.run && runs[p.run] && t.chat_id !== undefined)
        runOfScenarioChat[`${e.scenario.id} ${t.chat_id}`] =
          runOfScenarioChat[`${e.scenario.id} ${t.chat_id}`] || runs[p.run];
    }
    for (const id of Object.keys(data.chats || {})) {
      if (!chats[id]) chats[id] = { id: Number(id) };
      const c = chats[id];
      if (data.chats[id]) c.title = data.chats[id];
    }

    function person(actor) {
      if (!actor) return "";
      const role =
        actor.role || (actor.kind === "operator" || actor.kind === "supervisor" ? actor.kind : "");
      return `${actor.name || names[actor.id] || "someone"}${role ? ` (${role}${actor.id !== undefined ? `, ${actor.id}` : ""})` : actor.id !== undefined ? ` (${actor.id})` : ""}`;
    }
    function short(actor) {
      return `${actor.name || names[actor.id] || actor.id}${actor.role ? ` (${actor.role})` : ""}`;
    }
    function chatLabel(id) {
      if (id === undefined) return "";
      if (controlRooms[id]) return `control room (${id})`;
      const c = chats[id] || {};
      if (id > 0) return `private chat with ${memberLabel(id)}`;
      return `${c.alias ? `${c.alias} ` : ""}${c.title ? `“${c.title}” ` : ""}(${id})`;
    }
    function memberLabel(id) {
      return names[id] ? `${names[id]} (${id})` : String(id);
    }
    function runOf(e) {
      const p = e.params || {};
      if (p.run && runs[p.run]) return runs[p.run];
      if (!e.scenario) return undefined;
      const t = e.target || {};
      return runOfScenarioChat[`${e.scenario.id} ${t.chat_id}`] || lastRunOfScenario[e.scenario.id];
    }
    function who(e) {
      const a = e.actor || {};
      const lines = [];
      let key = person(a);
      if (a.kind === "scenario") {
        const run = runOf(e);
        if (run) {
          key = person(run.start.actor);
          lines.push(`started run ${run.id} of scenario ${a.name} (entry ${run.start.seq})`);
          if (run.approvedBy)
            lines.push(
              `run approved by ${short(run.approvedBy.actor)} (entry ${run.approvedBy.seq})`,
            );
        } else {
          key = `scenario ${a.name}`;
        }
        for (const g of stepGrants)
          if (
            e.scenario &&
            g.step === e.scenario.step &&
            g.grant.seq < e.seq &&
            e.op !== "approval.grant"
          )
            lines.push(`this step approved by ${short(g.grant.actor)} (entry ${g.grant.seq})`);
      } else if (a.kind === "system") {
        key = `Warden on its own (${a.name || "system"})`;
      } else if (a.kind === "cli") {
        key =
          a.name === "rehearsal"
            ? "the rehearsal (set-up)"
            : `server administrator ${a.name || ""}`.trim();
      }
      for (const u of e.update_ids || []) {
        const g = grantsByUpdate[u];
        if (g && g.seq !== e.seq && e.op !== "approval.request" && a.kind !== "scenario") {
          lines.push(`approved by ${short(g.actor)} (entry ${g.seq})`);
          break;
        }
      }
      return { key, lines };
    }
    function why(e) {
      const p = e.params || {};
      const out = [];
      if (e.justification) out.push(["justification", e.justification]);
      if (p.reason) out.push(["reason", p.reason]);
      if (p.why) out.push(["why", p.why]);
      if (e.recipients?.length) out.push(["recipients", e.recipients.join(", ")]);
      if (e.scenario) out.push(["scenario step", `${e.scenario.id} · ${e.scenario.step}`]);
      if (e.op === "scenario.trigger") {
        out.push([
          "fired on",
          `${p.on || "?"}${p.rules ? ` (rules: ${p.rules.join(", ")}${p.score !== undefined ? `; score ${p.score}` : ""})` : ""}`,
        ]);
      }
      out.push(["authority", e.authority]);
      out.push(["purpose", e.purpose]);
      return out;
    }
    function paramText(key, value) {
      if (value === null || value === undefined) return "";
      if (key === "wait" || key === "duration") return durationText(value);
      if (key === "seconds" || key === "until_seconds") return duration(Number(value));
      if (key === "retention_days") return duration(Number(value) * 86400);
      if (key === "control_room") return chatLabel(value);
      if (key === "requester") return memberLabel(value);
      if (key === "until" && typeof value === "string") return when(value);
      if (typeof value === "object") return JSON.stringify(value);
      return String(value);
    }
    function what(e, outcome) {
      const t = e.target || {};
      const p = Object.assign({}, e.params || {});
      const out = [];
      out.push([
        "action",
        `${OPS[e.op] || e.op}${p.step && e.phase === "intent" ? ` (${p.step})` : ""}`,
      ]);
      if (t.chat_id !== undefined) out.push(["chat", chatLabel(t.chat_id)]);
      if (t.user_ids?.length)
        out.push(["members", t.user_ids.map(memberLabel).join(", "), t.user_ids]);
      for (const k of Object.keys(p))
        if (!HIDDEN_PARAMS[k]) out.push([k.replace(/_/g, " "), paramText(k, p[k])]);
      if (outcome?.params?.step && outcome.params.step !== p.step)
        out.push(["step", outcome.params.step]);
      return out;
    }
    function result(e, outcome) {
      if (e.phase === "refused")
        return {
          text: `refused${e.params?.reason ? `: ${e.params.reason}` : ""}`,
          cls: "failed",
        };
      if (e.phase === "intent" && !outcome)
        return { text: "no outcome recorded (unknown)", cls: "unknown" };
      const r = (outcome || e).result;
      if (!r) return { text: e.phase === "info" ? "recorded" : "", cls: "" };
      if (r.ok === true) {
        const extra = [];
        if (r.message_id !== undefined) extra.push(`message ${r.message_id}`);
        if (r.member_count !== undefined) extra.push(`${r.member_count} members`);
        return { text: `done${extra.length ? ` (${extra.join(", ")})` : ""}`, cls: "ok" };
      }
      if (r.ok === "unknown")
        return { text: "unknown: Warden stopped before it learned the outcome", cls: "unknown" };
      return {
        text: `failed${r.error_code !== undefined ? ` (${r.error_code})` : ""}: ${r.description || "no description"}`,
        cls: "failed",
      };
    }

    const rows = [];
    for (const e of entries) {
      if (e.erased_by !== undefined) {
        rows.push({ seq: e.seq, erased: e.erased_by, search: "" });
        continue;
      }
      if (e.phase === "outcome" && e.intent_seq !== undefined && entries.length >= e.intent_seq) {
        const intent = entries[e.intent_seq - 1];
        if (intent && intent.seq === e.intent_seq && intent.erased_by === undefined) continue;
      }
      const outcome = e.phase === "intent" ? outcomes[e.seq] : undefined;
      const w = who(e);
      const res = result(e, outcome);
      const t = e.target || {};
      rows.push({
        seq: e.seq,
        outcomeSeq: outcome ? outcome.seq : undefined,
        entry: e,
        outcome,
        ts: e.ts,
        endTs: outcome ? outcome.ts : undefined,
        op: e.op,
        who: w,
        why: why(e),
        what: what(e, outcome),
        result: res,
        chat: t.chat_id !== undefined ? chatLabel(t.chat_id) : "",
        members: t.user_ids || [],
      });
    }
    return { rows, names, chatLabel, memberLabel, person };
  }

  function summarise(log) {
    const byOp = {};
    const byPerson = {};
    const disclosures = [];
    const erasures = [];
    const refusals = [];
    const problems = [];
    for (const r of log.rows) {
      if (r.erased) continue;
      byOp[r.op] = (byOp[r.op] || 0) + 1;
      byPerson[r.who.key] = (byPerson[r.who.key] || 0) + 1;
      if (r.op === "disclose") disclosures.push(r);
      if (r.op === "erase") erasures.push(r);
      if (r.entry.phase === "refused") refusals.push(r);
      if (r.result.cls === "failed" || r.result.cls === "unknown") problems.push(r);
    }
    return { byOp, byPerson, disclosures, erasures, refusals, problems };
  }

  function showVerdict(root, data) {
    const v = data.verdict;
    const box = add(root, el("section", undefined, `verdict ${v.status}`));
    box.id = "verdict";
    box.setAttribute("data-status", v.status);
    box.setAttribute("role", v.status === "failed" ? "alert" : "status");
    add(box, el("h2", v.headline, "headline"));
    if (v.warnings.length) {
      add(box, el("h3", "Warnings"));
      const ul = add(box, el("ul", undefined, "warnings"));
      for (const w of v.warnings) add(ul, el("li", w));
    }
    add(box, el("h3", "What was verified"));
    const ok = add(box, el("ul", undefined, "verified"));
    for (const s of v.verified) add(ok, el("li", s));
    add(box, el("h3", "What was not verified"));
    const no = add(box, el("ul", undefined, "not-verified"));
    for (const s of v.notVerified) add(no, el("li", s));
  }

  function showCase(root, data) {
    const c = data.case || {};
    const h = add(root, el("h1", `Audit log of case ${c.id || ""}`));
    h.id = "title";
    const dl = add(root, el("dl", undefined, "case"));
    dl.id = "case-meta";
    const pairs = [
      ["Title", c.title],
      ["Authority", c.authority],
      ["Purpose", c.purpose],
      ["Retention", c.retentionDays !== undefined ? duration(c.retentionDays * 86400) : undefined],
      ["Status", c.status],
      [
        "Times",
        data.clock === "simulated"
          ? "simulated: this is a rehearsal, every time is the rehearsal's simulated clock (UTC)"
          : "UTC",
      ],
      [
        "Exported",
        data.generatedAt
          ? `${when(data.generatedAt)} by Warden ${data.software ? `${data.software.version} (${data.software.commit.slice(0, 12)})` : ""}`
          : undefined,
      ],
    ];
    for (const [k, v] of pairs) {
      if (v === undefined || v === null) continue;
      add(dl, el("dt", k));
      add(dl, el("dd", v));
    }
  }

  function showSummary(root, _log, summary, go) {
    const s = add(root, el("section", undefined, "summary"));
    s.id = "summary";
    add(s, el("h2", "Summary"));
    const grid = add(s, el("div", undefined, "grid"));
    function list(title, obj, kind) {
      const box = add(grid, el("div", undefined, kind === "op" ? "kinds" : ""));
      add(box, el("h3", title));
      const ul = add(box, el("ul"));
      for (const k of Object.keys(obj).sort((a, b) => obj[b] - obj[a])) {
        const li = add(ul, el("li"));
        const b = add(li, el("button", `${kind === "op" ? OPS[k] || k : k}: ${obj[k]}`, "link"));
        b.type = "button";
        b.addEventListener("click", () => go(kind, k));
      }
    }
    list("Actions by kind", summary.byOp, "op");
    list("Actions by person", summary.byPerson, "who");
    const other = add(grid, el("div"));
    add(other, el("h3", "Disclosures, erasures, refusals, problems"));
    const ul = add(other, el("ul"));
    for (const d of summary.disclosures)
      add(
        ul,
        el(
          "li",
          `entry ${d.seq}: disclosed to ${(d.entry.recipients || []).join(", ") || "nobody named"} — ${d.entry.justification || ""}`,
        ),
      );
    add(
      ul,
      el("li", `${summary.erasures.length} erasure${summary.erasures.length === 1 ? "" : "s"}`),
    );
    add(
      ul,
      el("li", `${summary.refusals.length} refusal${summary.refusals.length === 1 ? "" : "s"}`),
    );
    const pli = add(ul, el("li"));
    const pb = add(
      pli,
      el(
        "button",
        `${summary.problems.length} action${summary.problems.length === 1 ? "" : "s"} failed or with unknown outcome`,
        "link",
      ),
    );
    pb.type = "button";
    pb.addEventListener("click", () => go("problems", "1"));
  }

  function mountRows(root, data) {
    const log = readLog(data);
    const summary = summarise(log);
    const state = {
      who: "",
      op: "",
      chat: "",
      member: "",
      from: "",
      to: "",
      problems: false,
      page: 0,
    };

    showSummary(root, log, summary, (kind, value) => {
      if (kind === "problems") state.problems = true;
      else state[kind] = value;
      sync();
      apply();
      table.focus();
    });

    const memberBox = add(root, el("section", undefined, "member"));
    memberBox.id = "member-page";
    memberBox.hidden = true;

    const f = add(root, el("form", undefined, "filters"));
    f.id = "filters";
    f.setAttribute("aria-label", "Filter the actions");
    f.addEventListener("submit", (ev) => ev.preventDefault());
    function select(id, label, values) {
      const l = add(f, el("label", label));
      const s = add(l, document.createElement("select"));
      s.id = id;
      add(s, el("option", "all")).value = "";
      for (const [value, text] of values) {
        const o = add(s, el("option", text));
        o.value = value;
      }
      return s;
    }
    const uniq = (xs) => Array.from(new Set(xs)).sort();
    const acts = log.rows.filter((r) => !r.erased);
    const fWho = select(
      "f-who",
      "Who",
      uniq(acts.map((r) => r.who.key)).map((k) => [k, k]),
    );
    const fOp = select(
      "f-op",
      "Operation",
      uniq(acts.map((r) => r.op)).map((k) => [k, `${OPS[k] || k} (${k})`]),
    );
    const fChat = select(
      "f-chat",
      "Chat",
      uniq(acts.map((r) => r.chat).filter(Boolean)).map((k) => [k, k]),
    );
    const memberIds = uniq(acts.flatMap((r) => r.members.map(String)));
    const fMember = select(
      "f-member",
      "Member",
      memberIds.map((id) => [id, log.memberLabel(Number(id))]),
    );
    function input(id, label, type) {
      const l = add(f, el("label", label));
      const i = add(l, document.createElement("input"));
      i.id = id;
      i.type = type;
      if (type === "datetime-local") i.step = "1";
      return i;
    }
    const fFrom = input("f-from", "From", "datetime-local");
    const fTo = input("f-to", "To", "datetime-local");
    const pl = add(f, el("label", undefined, "check"));
    const fProblems = add(pl, document.createElement("input"));
    fProblems.type = "checkbox";
    fProblems.id = "f-problems";
    pl.appendChild(document.createTextNode(" only failures and unknown outcomes"));
    const shown = add(f, el("output"));
    shown.id = "shown";
    shown.setAttribute("aria-live", "polite");

    const table = add(root, el("table", undefined, "actions"));
    table.id = "actions";
    table.tabIndex = -1;
    const cap = add(
      table,
      el(
        "caption",
        "One row per action: the intent written before Warden acted and the outcome after, together. Press Enter on a row for every recorded detail.",
      ),
    );
    cap.className = "note";
    const head = add(add(table, document.createElement("thead")), document.createElement("tr"));
    for (const h of ["#", "when", "who", "why", "what", "result"])
      add(head, el("th", h)).scope = "col";
    const tbody = add(table, document.createElement("tbody"));
    const pager = add(root, el("nav", undefined, "pager"));
    pager.setAttribute("aria-label", "Pages of actions");
    const prev = add(pager, el("button", "← previous page"));
    prev.type = "button";
    prev.id = "prev-page";
    const where = add(pager, el("span"));
    where.id = "page";
    const next = add(pager, el("button", "next page →"));
    next.type = "button";
    next.id = "next-page";

    let filtered = acts;
    function matches(r) {
      if (r.erased)
        return !state.who && !state.op && !state.chat && !state.member && !state.problems;
      if (state.who && r.who.key !== state.who) return false;
      if (state.op && r.op !== state.op) return false;
      if (state.chat && r.chat !== state.chat) return false;
      if (state.member && !r.members.some((m) => String(m) === state.member)) return false;
      if (state.from && r.ts.slice(0, state.from.length) < state.from) return false;
      if (state.to && r.ts.slice(0, state.to.length) > state.to) return false;
      if (state.problems && r.result.cls !== "failed" && r.result.cls !== "unknown") return false;
      return true;
    }
    function sync() {
      fWho.value = state.who;
      fOp.value = state.op;
      fChat.value = state.chat;
      fMember.value = state.member;
      fProblems.checked = state.problems;
    }
    function apply() {
      filtered = log.rows.filter(matches);
      state.page = 0;
      showMember();
      draw();
    }
    function showMember() {
      memberBox.textContent = "";
      memberBox.hidden = !state.member;
      if (!state.member) return;
      const id = Number(state.member);
      add(memberBox, el("h2", `Member ${log.memberLabel(id)}`));
      const mine = acts.filter((r) => r.members.some((m) => m === id));
      const kinds = {};
      for (const r of mine) kinds[OPS[r.op] || r.op] = (kinds[OPS[r.op] || r.op] || 0) + 1;
      add(
        memberBox,
        el(
          "p",
          `What Warden recorded and did about this person: ${mine.length} action${mine.length === 1 ? "" : "s"}${
            mine.length
              ? ` — ${Object.keys(kinds)
                  .map((k) => `${k}: ${kinds[k]}`)
                  .join("; ")}`
              : ""
          }. The rows below are theirs.`,
        ),
      );
    }
    function labelled(list, cls) {
      const dl = el("dl", undefined, cls);
      for (const [k, v, ids] of list) {
        if (v === undefined || v === null || v === "") continue;
        add(dl, el("dt", k));
        const dd = add(dl, el("dd"));
        if (ids) {
          ids.forEach((id, i) => {
            if (i) dd.appendChild(document.createTextNode(", "));
            const b = add(dd, el("button", log.memberLabel(id), "link member"));
            b.type = "button";
            b.addEventListener("click", (ev) => {
              ev.stopPropagation();
              state.member = String(id);
              sync();
              apply();
              memberBox.focus();
            });
          });
        } else dd.textContent = visible(v);
      }
      return dl;
    }
    function draw() {
      tbody.textContent = "";
      const pages = Math.max(1, Math.ceil(filtered.length / PAGE));
      if (state.page >= pages) state.page = pages - 1;
      const start = state.page * PAGE;
      const frag = document.createDocumentFragment();
      for (const r of filtered.slice(start, start + PAGE)) {
        const tr = add(frag, document.createElement("tr"));
        tr.setAttribute("data-seq", String(r.seq));
        if (r.erased) {
          tr.className = "erased";
          add(tr, el("td", r.seq));
          const td = add(
            tr,
            el("td", `payload erased by entry ${r.erased} (its hash remains in the log)`),
          );
          td.colSpan = 5;
          continue;
        }
        tr.className = `action ${r.result.cls}`;
        tr.tabIndex = 0;
        add(tr, el("td", r.outcomeSeq ? `${r.seq}–${r.outcomeSeq}` : r.seq, "seq"));
        add(tr, el("td", when(r.ts), "when"));
        const w = add(tr, el("td", undefined, "who"));
        add(w, el("strong", r.who.key));
        for (const line of r.who.lines) add(w, el("div", line, "sub"));
        add(
          add(tr, el("td", undefined, "why")),
          labelled(
            r.why
              .filter((x) => x[0] !== "authority" && x[0] !== "purpose")
              .concat(r.why.filter((x) => x[0] === "authority")),
            "kv",
          ),
        );
        add(add(tr, el("td", undefined, "what")), labelled(r.what, "kv"));
        add(tr, el("td", r.result.text, "result"));
        tr.addEventListener("click", () => toggle(tr, r));
        tr.addEventListener("keydown", (ev) => {
          if (ev.key === "Enter" || ev.key === " ") {
            ev.preventDefault();
            toggle(tr, r);
          } else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
            ev.preventDefault();
            let n = ev.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
            while (n && !n.classList.contains("action"))
              n = ev.key === "ArrowDown" ? n.nextElementSibling : n.previousElementSibling;
            if (n) n.focus();
          }
        });
      }
      tbody.appendChild(frag);
      where.textContent = `page ${state.page + 1} of ${pages}`;
      prev.disabled = state.page === 0;
      next.disabled = state.page >= pages - 1;
      shown.textContent = `${filtered.length} of ${log.rows.length} rows shown (${data.entries.length} entries)`;
    }
    function toggle(tr, r) {
      const open = tr.nextElementSibling;
      if (open?.classList.contains("detail")) {
        open.remove();
        tr.setAttribute("aria-expanded", "false");
        return;
      }
      const d = document.createElement("tr");
      d.className = "detail";
      const td = add(d, document.createElement("td"));
      td.colSpan = 6;
      const parts = [["entry", r.entry]];
      if (r.outcome) parts.push(["outcome", r.outcome]);
      for (const [name, e] of parts) {
        add(td, el("h4", `${name} ${e.seq} at ${when(e.ts)}`));
        const flat = [];
        (function walk(prefix, v) {
          if (v && typeof v === "object" && !Array.isArray(v))
            for (const k of Object.keys(v)) walk(prefix ? `${prefix}.${k}` : k, v[k]);
          else
            flat.push([
              prefix,
              Array.isArray(v)
                ? v.map((x) => (typeof x === "object" ? JSON.stringify(x) : String(x))).join(", ")
                : String(v),
            ]);
        })("", e);
        add(
          td,
          labelled(
            flat.filter((x) => !/^(prev|software\.|case$)/.test(x[0])),
            "kv full",
          ),
        );
      }
      tr.after(d);
      tr.setAttribute("aria-expanded", "true");
    }
    prev.addEventListener("click", () => {
      state.page--;
      draw();
    });
    next.addEventListener("click", () => {
      state.page++;
      draw();
    });
    for (const [s, key] of [
      [fWho, "who"],
      [fOp, "op"],
      [fChat, "chat"],
      [fMember, "member"],
    ])
      s.addEventListener("change", () => {
        state[key] = s.value;
        apply();
      });
    fFrom.addEventListener("input", () => {
      state.from = fFrom.value;
      apply();
    });
    fTo.addEventListener("input", () => {
      state.to = fTo.value;
      apply();
    });
    fProblems.addEventListener("change", () => {
      state.problems = fProblems.checked;
      apply();
    });
    memberBox.tabIndex = -1;
    apply();
    // For the benchmark (bench/console.ts): when the first page of rows is on the page.
    if (window.performance?.mark) performance.mark("warden-reading-mounted");
    return { rows: log.rows, summary };
  }

  /**
   * The verdict and the case first, painted at once; the rows in the next
   * task, so a long log shows what matters most before it is all read.
   * `data.entries` may be a function that parses them (report.html's, then).
   * `done` is called once the rows are on the page.
   */
  function mount(root, data, done) {
    const skip = add(root, el("a", "Skip to the actions", "skip"));
    skip.href = "#actions";
    showVerdict(root, data);
    showCase(root, data);
    const rest = add(root, el("div", "Reading the entries…", "note"));
    rest.id = "rows";
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      if (typeof data.entries === "function") data.entries = data.entries();
      rest.textContent = "";
      rest.className = "";
      const shown = mountRows(rest, data);
      if (done) done(shown);
    };
    requestAnimationFrame(() => setTimeout(start, 0));
    // A page the browser does not draw (a hidden tab) gets no animation frame.
    setTimeout(start, 100);
  }

  window.WardenReading = { mount, duration };
})();
