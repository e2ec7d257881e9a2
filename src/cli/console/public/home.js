// The console's first page: rehearse a scenario (problems shown before it
// starts), open an audit bundle, or read a live case.
(() => {
  const { el, add, api, problemList } = window.W;
  const app = document.getElementById("app");

  async function main() {
    const cat = await api("GET", "/api/catalogue");
    const studio = add(app, el("section", undefined, "card"));
    add(studio, el("h1", "Rehearse a scenario"));
    add(
      studio,
      el(
        "p",
        "Play a scenario against Warden's Telegram simulator: watch the group as members see it, answer the requests for approval as the supervisor, and read the audit log as it is written.",
        "note",
      ),
    );
    const form = add(studio, el("form", undefined, "row"));
    form.id = "start-form";
    function select(id, label, options) {
      const l = add(form, el("label", label));
      const s = add(l, document.createElement("select"));
      s.id = id;
      for (const [value, text] of options) {
        const o = add(s, el("option", text));
        o.value = value;
      }
      return s;
    }
    const scenario = select(
      "scenario",
      "Scenario",
      cat.scenarios.map((s) => [s.id, `${s.title} (${s.file})`]),
    );
    const world = select(
      "world",
      "World",
      [["", "the one the scenario names"]].concat(cat.worlds.map((w) => [w.id, w.title])),
    );
    const speedNames = {
      60: "a minute a second",
      600: "10 minutes a second",
      3600: "an hour a second",
      86400: "a day a second",
      0: "as fast as it goes",
    };
    const speed = select(
      "speed",
      "Simulated clock",
      cat.speeds.map((s) => [String(s), speedNames[s] || `${s}×`]),
    );
    speed.value = "3600";
    const start = add(form, el("button", "Start rehearsal", "primary"));
    start.type = "submit";
    start.id = "start";
    const lint = add(studio, el("div"));
    lint.id = "lint";
    lint.setAttribute("aria-live", "polite");

    async function check() {
      const q = new URLSearchParams({ scenario: scenario.value });
      if (world.value) q.set("world", world.value);
      const { problems } = await api("GET", `/api/lint?${q}`);
      lint.textContent = "";
      if (problems.length) {
        add(
          lint,
          el(
            "p",
            `${problems.length} problem${problems.length === 1 ? "" : "s"} in the scenario or world:`,
          ),
        );
        add(lint, problemList(problems));
      } else add(lint, el("p", "No problems found: ready to start.", "ok"));
      start.disabled = problems.some((p) => p.severity === "error");
    }
    scenario.addEventListener("change", check);
    world.addEventListener("change", check);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const body = { scenario: scenario.value, speed: Number(speed.value) };
        if (world.value) body.world = world.value;
        const { id } = await api("POST", "/api/rehearsals", body);
        location.href = `/rehearsals/${id}`;
      } catch (err) {
        lint.textContent = "";
        add(lint, el("p", err.message, "error"));
        if (err.data?.problems) add(lint, problemList(err.data.problems));
      }
    });
    await check();

    const list = add(studio, el("div"));
    const runs = await api("GET", "/api/rehearsals");
    if (runs.length) {
      add(list, el("h2", "Rehearsals in this console"));
      const ul = add(list, el("ul"));
      for (const r of runs) {
        const a = add(add(ul, el("li")), el("a", `${r.scenario} — ${r.state}`));
        a.href = `/rehearsals/${r.id}`;
      }
    }

    const audit = add(app, el("section", undefined, "card"));
    add(audit, el("h1", "Open an audit bundle"));
    add(
      audit,
      el(
        "p",
        "A folder written by warden audit export (or by a rehearsal). It is verified now, as you hold it.",
        "note",
      ),
    );
    const bf = add(audit, el("form", undefined, "row"));
    bf.id = "bundle-form";
    bf.action = "/bundle";
    bf.method = "get";
    const dl = add(bf, el("label", "Bundle folder"));
    const dir = add(
      dl,
      el("input", undefined, "wide", { name: "dir", required: "", id: "bundle-dir" }),
    );
    dir.placeholder = "/path/to/bundle";
    const kl = add(bf, el("label", "Operator's public key file (optional)"));
    add(kl, el("input", undefined, "wide", { name: "pubkey", id: "bundle-pubkey" })).placeholder =
      "audit.key.pub";
    const wl = add(bf, el("label", "Witness public key file (optional)"));
    add(wl, el("input", undefined, "wide", { name: "witness", id: "bundle-witness" })).placeholder =
      "witness.key.pub";
    const ob = add(bf, el("button", "Open and verify", "primary"));
    ob.type = "submit";

    if (cat.liveCases) {
      const live = add(app, el("section", undefined, "card"));
      add(live, el("h1", "Read a live case"));
      add(
        live,
        el(
          "p",
          "Read-only, with the token warden console printed at start and a role in the case. Each look is recorded in the case's audit log as consult, with your justification.",
          "note",
        ),
      );
      const cf = add(live, el("form", undefined, "row"));
      cf.id = "case-form";
      const cl = add(cf, el("label", "Case id"));
      const cid = add(cl, el("input", undefined, "", { required: "", id: "case-id" }));
      const go = add(cf, el("button", "Continue", "primary"));
      go.type = "submit";
      cf.addEventListener("submit", (ev) => {
        ev.preventDefault();
        location.href = `/cases/${encodeURIComponent(cid.value)}`;
      });
    }
  }
  main().catch((err) => add(app, el("p", `The console could not load: ${err.message}`, "error")));
})();
