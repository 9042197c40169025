/** The dashboard's stylesheet: one column on a phone, a grid from tablet width up. Colours pass WCAG AA contrast. */
export const APP_CSS = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #4f5661; --line: #d7dbe0; --bg: #f4f5f7; --card: #ffffff;
  --ok: #1a6b35; --warn: #8a4b00; --bad: #a4161a; --accent: #1d4ed8; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; padding: 0.75rem 1rem; background: #111827; color: #f9fafb; }
.top h1 { font-size: 1.1rem; margin: 0; }
.top p { margin: 0; }
.live { font-size: 0.85rem; color: #d1d5db; }
.who { margin-left: auto !important; font-size: 0.9rem; }
button { font: inherit; padding: 0.35rem 0.8rem; border-radius: 6px; border: 1px solid #374151; background: #1f2937; color: #f9fafb; cursor: pointer; }
button.approve { background: var(--ok); border-color: var(--ok); }
button.reject { background: var(--bad); border-color: var(--bad); }
button:focus-visible, input:focus-visible { outline: 3px solid #93c5fd; outline-offset: 1px; }
main { padding: 1rem; }
.board { display: grid; grid-template-columns: 1fr; gap: 1rem; }
@media (min-width: 800px) { .board { grid-template-columns: repeat(2, minmax(0, 1fr)); } .wide { grid-column: 1 / -1; } }
@media (min-width: 1200px) { .board { grid-template-columns: repeat(4, minmax(0, 1fr)); } .wide { grid-column: 1 / -1; } }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 0.75rem 1rem; min-width: 0; }
.card h2 { font-size: 1rem; margin: 0 0 0.5rem; }
.card h3 { font-size: 0.9rem; margin: 0.75rem 0 0.25rem; color: var(--muted); }
.signin { max-width: 28rem; margin: 2rem auto; }
.signin form { display: grid; gap: 0.4rem; }
.signin input { font: inherit; padding: 0.4rem; border: 1px solid #6b7280; border-radius: 6px; }
.signin button { justify-self: start; margin-top: 0.5rem; }
.error { color: var(--bad); min-height: 1.2em; }
ul.rows { list-style: none; margin: 0; padding: 0; }
ul.rows li { padding: 0.35rem 0; border-top: 1px solid var(--line); overflow-wrap: anywhere; }
ul.rows li:first-child { border-top: 0; }
.meta { color: var(--muted); font-size: 0.85rem; }
.badge { display: inline-block; font-size: 0.75rem; padding: 0 0.4rem; border-radius: 999px; border: 1px solid currentColor; margin-right: 0.3rem; }
.alive { color: var(--ok); }
.dead { color: var(--bad); }
.pending, .running, .claimed, .awaiting_approval { color: var(--warn); }
.passed, .verified, .completed { color: var(--ok); }
.failed, .rejected, .cancelled { color: var(--bad); }
.chips { display: flex; flex-wrap: wrap; gap: 0.35rem; margin: 0 0 0.5rem; padding: 0; list-style: none; }
.chips li { border: 1px solid var(--line); border-radius: 6px; padding: 0.1rem 0.5rem; }
.empty { color: var(--muted); font-style: italic; }
code { font: 0.85rem ui-monospace, SFMono-Regular, Menlo, monospace; }
.review { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; margin-top: 0.35rem; }
.review input { font: inherit; padding: 0.3rem; border: 1px solid #6b7280; border-radius: 6px; flex: 1 1 10rem; min-width: 0; }
.timeline { list-style: none; margin: 0; padding: 0; max-height: 28rem; overflow: auto; }
.timeline li { display: grid; grid-template-columns: 6.5rem 11rem minmax(0, 1fr); gap: 0.5rem; padding: 0.25rem 0; border-top: 1px solid var(--line); }
@media (max-width: 640px) { .timeline li { grid-template-columns: 1fr; gap: 0; } }
.timeline time { color: var(--muted); font-variant-numeric: tabular-nums; }
`;
