/**
 * The console's pages are shells: a header, an empty `main`, and the
 * scripts that fill it from the JSON API. Scripts and styles come from
 * this server (`/assets/…`, see `./public/`), never from elsewhere.
 */
export type PageName = "home" | "studio" | "auditor" | "case";

export function page(name: PageName, title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Warden</title>
<link rel="stylesheet" href="/assets/console.css">
<link rel="stylesheet" href="/assets/reading.css">
<script src="/assets/reading.js" defer></script>
<script src="/assets/common.js" defer></script>
<script src="/assets/${name}.js" defer></script>
</head>
<body data-page="${name}">
<header class="top"><a href="/" class="brand">Warden console</a><span class="where">${title}</span></header>
<main id="app"></main>
</body>
</html>
`;
}
