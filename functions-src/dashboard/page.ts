/**
 * The dashboard page: static HTML, one stylesheet and one script, all served by the app (no build step, no CDN).
 * The script renders the overview from /dashboard/api/overview and keeps it current from /dashboard/api/events.
 * Assets are strings in modules (app-script.ts, app-style.ts) because the edge bundle carries imported modules only.
 */

/** The page shell. Relative URLs: it works at /dashboard and under Supabase's /functions/v1/coordinator/dashboard. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Agent Coordinator</title>
<link rel="icon" href="dashboard/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="dashboard/app.css">
<script src="dashboard/app.js" defer></script>
</head>
<body>
<header class="top">
  <h1>Agent Coordinator</h1>
  <p id="live" class="live" role="status" aria-live="polite">connecting…</p>
  <p id="who" class="who"></p>
  <button id="logout" type="button" hidden>Sign out</button>
</header>
<main id="main">
  <section id="signin" class="card signin" hidden aria-labelledby="signin-title">
    <h2 id="signin-title">Sign in</h2>
    <p>Enter an API key once; the page keeps a session cookie (12 hours) and never stores the key.</p>
    <form id="signin-form">
      <label for="key">API key</label>
      <input id="key" name="key" type="password" autocomplete="off" required minlength="16">
      <label for="agent">Act as (agent id; a bound key names its own)</label>
      <input id="agent" name="agent" type="text" value="operator" pattern="[A-Za-z0-9._:@\\-]{1,128}">
      <button type="submit">Sign in</button>
      <p id="signin-error" class="error" role="alert"></p>
    </form>
  </section>
  <div id="board" class="board" hidden>
    <section class="card" aria-labelledby="agents-title"><h2 id="agents-title">Agents</h2><div id="agents"></div></section>
    <section class="card" aria-labelledby="locks-title"><h2 id="locks-title">Locks</h2><div id="locks"></div></section>
    <section class="card" aria-labelledby="queue-title"><h2 id="queue-title">Queue</h2><div id="queue"></div></section>
    <section class="card" aria-labelledby="changesets-title"><h2 id="changesets-title">Changesets</h2><div id="changesets"></div></section>
    <section class="card wide" aria-labelledby="timeline-title"><h2 id="timeline-title">Events</h2><ol id="timeline" class="timeline" tabindex="0" aria-labelledby="timeline-title"></ol></section>
  </div>
</main>
</body>
</html>
`;

/** The tab icon: a small padlock, so the browser does not ask for /favicon.ico. */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="3" y="7" width="10" height="8" rx="1" ' +
  'fill="#1d4ed8"/><path d="M5 7V5a3 3 0 0 1 6 0v2" fill="none" stroke="#1d4ed8" stroke-width="2"/></svg>';
