import type { AuditEntry } from "./entry.ts";
import type { Finding, VerifyReport } from "./verify.ts";

/**
 * report.html: one self-contained file an auditor opens offline. No network,
 * no external scripts or styles: the data sits in `<script type="application/json">`
 * tags (with `<` escaped so no string can close them) and is put on the page by
 * inline script through `textContent` only. Every string came from the log, and
 * much of it from the people under investigation: nothing is parsed as HTML,
 * and bidirectional-override characters are shown as visible marks.
 *
 * The file is a function of the bundle and nothing else (no clock, no host),
 * so `verify --bundle` can render it again from the verified entries and
 * compare it byte for byte with the one shipped. It is written in log order
 * (`reportHead`, one `reportEntry` per line, `reportTail`): the entries
 * first, then what only the end of the log tells (the case, as the export's
 * disclose entry recorded it, and the verdict), so neither the export nor the
 * verifier holds the log in memory to make it.
 */

export interface ReportCase {
  id: string;
  title?: string;
  authority?: string;
  purpose?: string;
  retentionDays?: number;
  status?: string;
}

export type ReportEntry = AuditEntry | { seq: number; erased_by: number };

/** What the report says besides the entries: all of it read from the bundle itself. */
export interface ReportMeta {
  case: ReportCase;
  verification: VerifyReport;
  /** What the signatures were checked against, in words. */
  verifiedWith: string;
  generatedAt: string;
  software: { version: string; commit: string };
}

export interface ReportInput extends ReportMeta {
  entries: readonly ReportEntry[];
}

export function verificationStatus(report: VerifyReport): {
  status: "intact" | "warnings" | "failed";
  label: string;
} {
  if (!report.ok) {
    const at = report.failure?.seq !== undefined ? ` at seq ${report.failure.seq}` : "";
    return { status: "failed", label: `FAILED${at}` };
  }
  return report.warnings.length > 0
    ? {
        status: "warnings",
        label: `intact, ${report.warnings.length} warning${report.warnings.length === 1 ? "" : "s"}`,
      }
    : { status: "intact", label: "intact" };
}

/** JSON that is safe inside a script element: `<` cannot start `</script>` or `<!--`. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll("<", "\\u003c")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

/** Everything before the first entry. */
export function reportHead(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'none'; connect-src 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<title>Warden audit report</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Audit log of case <span id="case-id"></span></h1>
<dl id="case-meta"></dl>
<p>Verification: <span id="badge" class="badge"></span> <span id="verified-with"></span></p>
<ul id="findings"></ul>
<p class="note">This verdict was computed when the bundle was exported. To check the bundle as you received it, run <code>warden audit verify --bundle &lt;dir&gt; --pubkey &lt;key.pub&gt;</code>.</p>
</header>
<noscript><p>This report needs JavaScript to show the entries; entries.jsonl and entries.csv hold the same data.</p></noscript>
<section id="filters">
<label>Actor <select id="f-actor"><option value="">all</option></select></label>
<label>Operation <select id="f-op"><option value="">all</option></select></label>
<label>Chat <select id="f-chat"><option value="">all</option></select></label>
<label>From (UTC) <input id="f-from" type="datetime-local" step="1"></label>
<label>To (UTC) <input id="f-to" type="datetime-local" step="1"></label>
<span id="shown"></span>
</section>
<table id="entries">
<thead><tr><th>seq</th><th>time (UTC)</th><th>actor</th><th>operation</th><th>phase</th><th>chat</th><th>users</th><th>result</th></tr></thead>
<tbody></tbody>
</table>
<script type="application/json" id="audit-entries">[`;
}

/** One entry (or erased seq) of the log, in order; `first` for the first of them. */
export function reportEntry(entry: ReportEntry, first: boolean): string {
  return first ? scriptSafeJson(entry) : `,${scriptSafeJson(entry)}`;
}

/** Everything after the last entry: the case, the verdict, and the script that shows them. */
export function reportTail(meta: ReportMeta): string {
  const { status, label } = verificationStatus(meta.verification);
  const data = {
    case: meta.case,
    verification: {
      status,
      label,
      failure: meta.verification.failure ?? null,
      warnings: meta.verification.warnings satisfies Finding[],
      entries: meta.verification.entries,
      erased: meta.verification.erased,
      signedSize: meta.verification.signedSize,
      root: meta.verification.root,
      verifiedWith: meta.verifiedWith,
    },
    generatedAt: meta.generatedAt,
    software: meta.software,
  };
  return `]</script>
<script type="application/json" id="audit-meta">${scriptSafeJson(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** The whole report at once: what `reportHead`, `reportEntry` and `reportTail` write piece by piece. */
export function renderReport(input: ReportInput): string {
  const { entries, ...meta } = input;
  return reportHead() + entries.map((e, i) => reportEntry(e, i === 0)).join("") + reportTail(meta);
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b}
h1{font-size:1.4em;margin:0 0 .4em}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:.5em 0}
dt{font-weight:600}dd{margin:0;unicode-bidi:isolate}
.badge{padding:.15em .6em;border-radius:.8em;font-weight:700}
.badge.intact{background:#d4f5d4;color:#0b5d0b}.badge.warnings{background:#fff0c2;color:#6b4d00}.badge.failed{background:#ffd6d6;color:#8a0000}
.note{color:#555;font-size:.9em}
#filters{display:flex;flex-wrap:wrap;gap:1em;align-items:end;margin:1em 0;padding:.6em;background:#f3f3f3}
#filters label{display:flex;flex-direction:column;font-size:.85em}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid #ddd;vertical-align:top;unicode-bidi:isolate}
tr.entry{cursor:pointer}tr.entry:hover{background:#f6f9ff}
tr.erased td{color:#777;font-style:italic}
tr.detail pre{margin:0;white-space:pre-wrap;word-break:break-all;background:#fafafa;padding:.5em;unicode-bidi:isolate}
.mark{color:#b00;font-weight:700}
`;

// Runs in the auditor's browser. Only textContent and createElement: no string is ever parsed as HTML.
const SCRIPT = `
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("audit-meta").textContent);
  data.entries = JSON.parse(document.getElementById("audit-entries").textContent);
  var BIDI = /[\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]/g;
  function visible(s) {
    return String(s).replace(BIDI, function (c) {
      return "\\u27e6U+" + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0") + "\\u27e7";
    });
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = visible(text);
    if (cls) e.className = cls;
    return e;
  }
  function actorLabel(a) {
    if (!a) return "";
    var parts = [a.kind];
    if (a.name) parts.push(a.name);
    if (a.id !== undefined) parts.push("#" + a.id);
    return parts.join(" ");
  }
  function chatLabel(t) {
    if (!t || (t.chat_id === undefined && t.alias === undefined)) return "";
    return (t.alias ? t.alias + " " : "") + (t.chat_id !== undefined ? "(" + t.chat_id + ")" : "");
  }
  function resultLabel(r) {
    if (!r) return "";
    if (r.ok === true) return "ok";
    if (r.ok === "unknown") return "unknown";
    return "error" + (r.error_code !== undefined ? " " + r.error_code : "") + ": " + r.description;
  }

  var c = data.case;
  document.getElementById("case-id").textContent = visible(c.id);
  var meta = document.getElementById("case-meta");
  [["Title", c.title], ["Authority", c.authority], ["Purpose", c.purpose],
   ["Retention", c.retentionDays !== undefined ? c.retentionDays + " days" : undefined], ["Status", c.status],
   ["Entries", data.verification.entries + (data.verification.erased ? " (" + data.verification.erased + " erased)" : "")],
   ["Signed up to", data.verification.signedSize ? "tree size " + data.verification.signedSize : "no signed checkpoint"],
   ["Root hash", data.verification.root], ["Exported", data.generatedAt + " by Warden " + data.software.version + " (" + data.software.commit + ")"]]
    .forEach(function (pair) {
      if (pair[1] === undefined || pair[1] === null) return;
      meta.appendChild(el("dt", pair[0]));
      meta.appendChild(el("dd", pair[1]));
    });
  var badge = document.getElementById("badge");
  badge.textContent = data.verification.label;
  badge.className = "badge " + data.verification.status;
  badge.setAttribute("data-status", data.verification.status);
  document.getElementById("verified-with").textContent = visible(data.verification.verifiedWith);
  var findings = document.getElementById("findings");
  if (data.verification.failure) {
    var f = data.verification.failure;
    findings.appendChild(el("li", "FAILED" + (f.seq !== undefined && f.seq !== null ? " at seq " + f.seq : "") + ": " + f.message));
  }
  data.verification.warnings.forEach(function (w) {
    findings.appendChild(el("li", "warning" + (w.seq !== undefined && w.seq !== null ? " (seq " + w.seq + ")" : "") + ": " + w.message));
  });

  var rows = [];
  var actors = {}, ops = {}, chats = {};
  var tbody = document.querySelector("#entries tbody");
  data.entries.forEach(function (e) {
    var tr = document.createElement("tr");
    tr.className = "entry";
    var row = { entry: e, tr: tr, detail: null, actor: "", op: "", chat: "", ts: "" };
    if (e.erased_by !== undefined) {
      tr.className = "entry erased";
      tr.appendChild(el("td", e.seq));
      var td = el("td", "payload erased by seq " + e.erased_by + " (its hash remains in the log)");
      td.colSpan = 7;
      tr.appendChild(td);
    } else {
      row.actor = actorLabel(e.actor);
      row.op = e.op;
      row.chat = chatLabel(e.target);
      row.ts = e.ts;
      [e.seq, e.ts, row.actor + (e.actor.role ? " [" + e.actor.role + "]" : ""), e.op, e.phase, row.chat,
       e.target && e.target.user_ids ? e.target.user_ids.join(", ") : "", resultLabel(e.result)]
        .forEach(function (v) { tr.appendChild(el("td", v)); });
      actors[row.actor] = true;
      ops[row.op] = true;
      if (row.chat) chats[row.chat] = true;
    }
    tr.setAttribute("data-seq", String(e.seq));
    tr.addEventListener("click", function () { toggle(row); });
    tbody.appendChild(tr);
    rows.push(row);
  });
  function fill(id, values) {
    var select = document.getElementById(id);
    Object.keys(values).sort().forEach(function (v) {
      var o = document.createElement("option");
      o.value = v;
      o.textContent = visible(v);
      select.appendChild(o);
    });
    select.addEventListener("change", apply);
  }
  fill("f-actor", actors);
  fill("f-op", ops);
  fill("f-chat", chats);
  document.getElementById("f-from").addEventListener("input", apply);
  document.getElementById("f-to").addEventListener("input", apply);

  function toggle(row) {
    if (row.detail) {
      row.detail.remove();
      row.detail = null;
      return;
    }
    var tr = document.createElement("tr");
    tr.className = "detail";
    var td = document.createElement("td");
    td.colSpan = 8;
    td.appendChild(el("pre", JSON.stringify(row.entry, null, 2)));
    tr.appendChild(td);
    row.tr.after(tr);
    row.detail = tr;
  }
  function apply() {
    var actor = document.getElementById("f-actor").value;
    var op = document.getElementById("f-op").value;
    var chat = document.getElementById("f-chat").value;
    var from = document.getElementById("f-from").value;
    var to = document.getElementById("f-to").value;
    var shown = 0;
    rows.forEach(function (row) {
      var erased = row.entry.erased_by !== undefined;
      var ok = (!actor || row.actor === actor) && (!op || row.op === op) && (!chat || row.chat === chat) &&
        (!from || (!erased && row.ts.slice(0, from.length) >= from)) &&
        (!to || (!erased && row.ts.slice(0, to.length) <= to));
      if (erased && (actor || op || chat)) ok = false;
      row.tr.hidden = !ok;
      if (row.detail) row.detail.hidden = !ok;
      if (ok) shown++;
    });
    document.getElementById("shown").textContent = shown + " of " + rows.length + " entries shown";
  }
  apply();
})();
`;
