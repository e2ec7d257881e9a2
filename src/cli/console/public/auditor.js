// The auditor's view of a bundle: verified now, read with the same script as report.html.
(() => {
  const { el, add, api } = window.W;
  const app = document.getElementById("app");
  const q = new URLSearchParams(location.search);
  const params = new URLSearchParams();
  for (const k of ["dir", "pubkey", "witness"]) if (q.get(k)) params.set(k, q.get(k));
  const wait = add(app, el("p", `Verifying ${q.get("dir") || ""}…`, "note"));
  wait.setAttribute("role", "status");
  api("GET", `/api/bundle?${params}`)
    .then((data) => {
      wait.remove();
      const root = add(app, el("div", undefined, "reading"));
      root.id = "reading";
      window.WardenReading.mount(root, data);
      document.title = `${data.verdict.status === "failed" ? "NOT VERIFIED" : "Verified"} · ${data.case.id} · Warden`;
    })
    .catch((err) => {
      wait.textContent = "";
      wait.className = "error";
      wait.textContent = `Could not open the bundle: ${err.message}`;
    });
})();
