// The widget's CSS, inside its shadow root: the page's styles cannot reach it and it cannot reach the page.
// Colours meet WCAG AA contrast (text #1f2937 on white 14.7:1; white on the default accent #1d4ed8 6.7:1).

export const styles = `
:host { all: initial; --kb-accent: #1d4ed8; }
/* Inherited properties (colour, font) cross into a shadow root from the host element, which the page's CSS can
   style (even with !important): every top-level part sets its own. */
.panel, .launcher { font-family: system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif; color: #1f2937; font-size: 14px; line-height: 1.4; font-style: normal; font-weight: normal; letter-spacing: normal; text-align: left; text-transform: none; visibility: visible; }
* { box-sizing: border-box; }
button { font: inherit; cursor: pointer; }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.launcher { position: fixed; bottom: 20px; z-index: 2147483000; width: 56px; height: 56px; border-radius: 50%; border: none; background: var(--kb-accent); color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.25); font-size: 26px; line-height: 56px; text-align: center; padding: 0; }
.launcher.right, .panel.right { right: 20px; }
.launcher.left, .panel.left { left: 20px; }
.panel { position: fixed; bottom: 88px; z-index: 2147483000; width: 380px; max-width: calc(100vw - 24px); height: 560px; max-height: calc(100vh - 110px); display: flex; flex-direction: column; background: #fff; border: 1px solid #d1d5db; border-radius: 12px; box-shadow: 0 10px 30px rgba(0,0,0,.2); overflow: hidden; font-size: 14px; }
.panel[hidden] { display: none; }
:host([inline]) .panel { position: static; width: 100%; max-width: none; height: 100%; min-height: 420px; max-height: none; box-shadow: none; }
header { display: flex; align-items: center; justify-content: space-between; gap: 8px; padding: 10px 12px; background: var(--kb-accent); color: #fff; }
header h2 { margin: 0; font-size: 15px; font-weight: 600; flex: 1; }
header div { display: flex; gap: 6px; flex-shrink: 0; }
header button { background: transparent; border: 1px solid rgba(255,255,255,.7); color: #fff; border-radius: 6px; padding: 2px 8px; font-size: 12px; white-space: nowrap; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 10px; }
.message { max-width: 92%; padding: 8px 10px; border-radius: 10px; line-height: 1.5; overflow-wrap: anywhere; }
.message p { margin: 0 0 6px; } .message p:last-child { margin-bottom: 0; }
.message ul, .message ol { margin: 4px 0; padding-left: 20px; }
.message .table { overflow-x: auto; max-width: 100%; margin: 4px 0; }
.message table { border-collapse: collapse; font-size: 13px; }
/* Cells break between words only ("E-104" and "Code" stay whole); a table wider than the bubble scrolls. */
.message th, .message td { border: 1px solid #d1d5db; padding: 2px 6px; text-align: left; vertical-align: top; overflow-wrap: normal; word-break: normal; hyphens: none; }
.message th.short, .message td.short { white-space: nowrap; }
.message code { background: #f3f4f6; padding: 0 3px; border-radius: 3px; }
.message a { color: #1d4ed8; }
.user { align-self: flex-end; background: #e0e7ff; }
.assistant { align-self: flex-start; background: #f3f4f6; }
.assistant.refusal { background: #fef3c7; border: 1px solid #f59e0b; }
.error { align-self: stretch; background: #fee2e2; border: 1px solid #b91c1c; color: #7f1d1d; }
.cite { display: inline-block; min-width: 20px; margin: 0 1px; padding: 0 4px; border: 1px solid #1d4ed8; border-radius: 8px; background: #fff; color: #1d4ed8; font-size: 11px; line-height: 16px; vertical-align: super; }
.card { margin-top: 6px; padding: 6px 8px; background: #fff; border: 1px solid #d1d5db; border-radius: 8px; font-size: 13px; }
.card h3 { margin: 0 0 2px; font-size: 13px; }
.card .where { color: #4b5563; font-size: 12px; margin-bottom: 4px; }
.actions { display: flex; gap: 6px; margin-top: 6px; align-items: center; font-size: 12px; color: #4b5563; }
.actions button { border: 1px solid #9ca3af; background: #fff; border-radius: 6px; padding: 1px 6px; color: #1f2937; }
.actions button[aria-pressed="true"] { background: var(--kb-accent); color: #fff; border-color: var(--kb-accent); }
.suggestions { display: flex; flex-wrap: wrap; gap: 6px; }
.suggestions button { border: 1px solid var(--kb-accent); color: #1f2937; background: #fff; border-radius: 14px; padding: 3px 10px; font-size: 13px; }
form { display: flex; gap: 6px; padding: 8px; border-top: 1px solid #e5e7eb; align-items: flex-end; }
label.visually-hidden, span.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
textarea { flex: 1; resize: none; min-height: 40px; max-height: 120px; padding: 8px; border: 1px solid #6b7280; border-radius: 8px; font: inherit; color: #1f2937; }
form button { border: none; border-radius: 8px; padding: 9px 12px; background: var(--kb-accent); color: #fff; }
form button.stop { background: #374151; }
.status { font-size: 12px; color: #4b5563; padding: 0 12px 6px; min-height: 18px; }
@media (max-width: 480px) { :host(:not([inline])) .panel { left: 0; right: 0; bottom: 0; width: 100vw; max-width: 100vw; height: 100vh; max-height: 100vh; border-radius: 0; } }
`;
