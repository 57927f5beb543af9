// The admin console's style sheet, served by the server as a file (/admin/console.css) so that the pages' CSP needs no
// inline style.

export const CONSOLE_STYLES = `
:root { --accent: #0f766e; --accent-dark: #115e59; --line: #e5e7eb; --muted: #6b7280; --bad: #b91c1c; --good: #15803d; --warn: #b45309; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; color: #111827; background: #f3f4f6; }
button, input, select, textarea { font: inherit; }
header.top { display: flex; align-items: center; gap: 12px; padding: 10px 20px; background: #111827; color: #fff; flex-wrap: wrap; }
header.top strong { font-size: 16px; margin-right: auto; }
header.top label { color: #d1d5db; font-size: 13px; display: flex; gap: 6px; align-items: center; white-space: nowrap; }
header.top select, header.top button { background: #1f2937; color: #fff; border: 1px solid #374151; border-radius: 6px; padding: 4px 10px; cursor: pointer; }
.layout { display: grid; grid-template-columns: 200px 1fr; min-height: calc(100vh - 52px); }
nav.side { background: #fff; border-right: 1px solid var(--line); padding: 12px 0; }
nav.side a { display: block; padding: 8px 20px; color: #374151; text-decoration: none; border-left: 3px solid transparent; }
nav.side a:hover { background: #f9fafb; }
nav.side a[aria-current="page"] { border-left-color: var(--accent); color: var(--accent); font-weight: 600; background: #f0fdfa; }
main { padding: 20px 24px; min-width: 0; }
h1 { font-size: 20px; margin: 0 0 14px; }
h2 { font-size: 16px; margin: 0 0 10px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; margin-bottom: 16px; }
.row { display: flex; gap: 10px; flex-wrap: wrap; align-items: flex-end; margin-top: 10px; }
.row > label.check { flex-direction: row; align-items: center; gap: 6px; flex: 0 1 auto; min-width: 0; padding-bottom: 8px; }
.row > label, .field { display: flex; flex-direction: column; gap: 3px; font-size: 12px; color: #374151; min-width: 140px; flex: 1 1 160px; max-width: 360px; }
.field.wide { flex-basis: 100%; max-width: none; }
input[type=text], input[type=search], input[type=url], input[type=number], input[type=password], input[type=date], select, textarea { border: 1px solid #d1d5db; border-radius: 6px; padding: 6px 8px; background: #fff; color: #111827; width: 100%; }
textarea { min-height: 90px; resize: vertical; }
button { border: 1px solid #d1d5db; background: #fff; color: #111827; border-radius: 6px; padding: 6px 12px; cursor: pointer; white-space: nowrap; }
button:hover { background: #f9fafb; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.primary:hover { background: var(--accent-dark); }
button.danger { color: var(--bad); border-color: #fecaca; }
button.link { border: none; background: none; color: #1d4ed8; padding: 2px 4px; text-decoration: underline; }
button:disabled { opacity: .5; cursor: default; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 7px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; white-space: nowrap; }
td.actions { white-space: nowrap; }
td:first-child { min-width: 180px; }
a.button { display: inline-block; border: 1px solid #d1d5db; border-radius: 6px; padding: 6px 12px; color: #111827; text-decoration: none; background: #fff; }
a.button:hover { background: #f9fafb; }
td .sub { display: block; color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #e5e7eb; white-space: nowrap; }
.badge.succeeded, .badge.added, .badge.updated, .badge.answered, .badge.up { background: #dcfce7; color: var(--good); }
.badge.failed, .badge.refused, .badge.down { background: #fee2e2; color: var(--bad); }
.badge.running, .badge.queued, .badge.low { background: #fef3c7; color: var(--warn); }
.pager { display: flex; gap: 10px; align-items: center; margin-top: 10px; }
.drop { border: 2px dashed #9ca3af; border-radius: 10px; padding: 18px; text-align: center; color: #374151; background: #f9fafb; cursor: pointer; display: block; }
.drop.over { border-color: var(--accent); background: #f0fdfa; }
.drop input { display: block; margin: 8px auto 0; }
.notice { padding: 8px 12px; border-radius: 8px; margin: 8px 0; }
.notice.error { background: #fee2e2; color: var(--bad); }
.notice.ok { background: #dcfce7; color: var(--good); }
.secret { font-family: ui-monospace, monospace; background: #fef3c7; padding: 8px 10px; border-radius: 6px; word-break: break-all; display: block; }
pre.code { background: #111827; color: #e5e7eb; padding: 12px; border-radius: 8px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; font-size: 12px; }
.chunk { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; margin: 8px 0; }
.chunk .where { font-size: 12px; color: var(--muted); margin-bottom: 4px; }
.chunk .text { white-space: pre-wrap; }
dialog { border: none; border-radius: 12px; padding: 0; width: min(860px, 94vw); max-height: 88vh; box-shadow: 0 20px 50px rgba(0,0,0,.3); }
dialog::backdrop { background: rgba(17,24,39,.45); }
dialog .dialog-head { display: flex; justify-content: space-between; align-items: center; padding: 12px 16px; border-bottom: 1px solid var(--line); position: sticky; top: 0; background: #fff; }
dialog .dialog-body { padding: 12px 16px; }
.answer { white-space: pre-wrap; background: #f9fafb; border-radius: 8px; padding: 10px 12px; }
.gap { border-left: 4px solid var(--warn); }
.preview { width: 100%; height: 560px; border: 1px solid var(--line); border-radius: 10px; background: #f3f4f6; }
.login { max-width: 420px; margin: 10vh auto; }
.login p { color: #374151; }
.toast { position: fixed; right: 16px; bottom: 16px; max-width: 420px; z-index: 10; }
progress { width: 120px; vertical-align: middle; }
@media (max-width: 820px) {
  .layout { grid-template-columns: 1fr; grid-template-rows: auto 1fr; }
  nav.side { align-self: start; display: flex; overflow-x: auto; padding: 0; border-right: none; border-bottom: 1px solid var(--line); }
  nav.side a { border-left: none; border-bottom: 3px solid transparent; white-space: nowrap; padding: 10px 12px; }
  nav.side a[aria-current="page"] { border-bottom-color: var(--accent); }
  main { padding: 14px; }
}
`;
