// Shared by the console's pages. Text from the API (much of it written by the
// people under investigation) goes on screen through textContent and
// `visible` (reading.js, from src/base/html.ts) only: nothing is parsed as HTML.
/* global visible */
window.W = (() => {
  function el(tag, text, cls, attrs) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = visible(text);
    if (cls) e.className = cls;
    if (attrs) for (const k of Object.keys(attrs)) e.setAttribute(k, attrs[k]);
    return e;
  }
  function add(parent, child) {
    parent.appendChild(child);
    return child;
  }
  async function api(method, path, body, headers) {
    const res = await fetch(path, {
      method,
      headers: Object.assign(body ? { "content-type": "application/json" } : {}, headers || {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(data.error || `${res.status}`);
      err.data = data;
      err.status = res.status;
      throw err;
    }
    return data;
  }
  function problemList(problems) {
    const ul = el("ul", undefined, "problems");
    ul.id = "problems";
    for (const p of problems) {
      const li = add(ul, el("li", undefined, p.severity));
      add(li, el("code", `${p.file}:${p.line}:${p.column}`, "where"));
      li.appendChild(document.createTextNode(" "));
      add(li, el("strong", p.severity));
      li.appendChild(
        document.createTextNode(
          `: ${visible(p.message)}${p.hint ? ` (hint: ${visible(p.hint)})` : ""}`,
        ),
      );
    }
    return ul;
  }
  function simTime(iso) {
    return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : "";
  }
  return { el, add, api, problemList, simTime };
})();
