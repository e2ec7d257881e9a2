// A live case, read-only: the token, who you are in the case, and why; the look is logged as consult.
(() => {
  const { el, add, api } = window.W;
  const app = document.getElementById("app");
  const caseId = decodeURIComponent(location.pathname.split("/").pop());
  const card = add(app, el("section", undefined, "card"));
  add(card, el("h1", `Read case ${caseId}`));
  add(
    card,
    el(
      "p",
      "This look is recorded in the case's audit log as consult, with your justification, before anything is shown.",
      "note",
    ),
  );
  const f = add(card, el("form", undefined, "row"));
  f.id = "consult-form";
  const t = add(
    add(f, el("label", "Console token")),
    el("input", undefined, "wide", {
      id: "token",
      required: "",
      type: "password",
      autocomplete: "off",
    }),
  );
  const u = add(
    add(f, el("label", "Your Telegram user id (your role in the case)")),
    el("input", undefined, "", { id: "user", required: "", inputmode: "numeric" }),
  );
  const j = add(
    add(f, el("label", "Justification")),
    el("input", undefined, "wide", { id: "justification", required: "" }),
  );
  const b = add(f, el("button", "Read the audit log", "primary"));
  b.type = "submit";
  const out = add(app, el("div"));
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    out.textContent = "";
    try {
      const data = await api(
        "POST",
        `/api/cases/${encodeURIComponent(caseId)}/read`,
        { userId: Number(u.value), justification: j.value },
        { authorization: `Bearer ${t.value}` },
      );
      add(out, el("p", `Your look is on the record as entry ${data.consultSeq}.`, "ok"));
      const root = add(out, el("div", undefined, "reading"));
      window.WardenReading.mount(root, data);
    } catch (err) {
      add(out, el("p", err.message, "error"));
    }
  });
})();
