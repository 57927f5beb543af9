// GET /: a page that looks like an internal help-desk portal, with the widget on it, so that `npm start` shows the
// product working. Sample questions in both languages; clicking one asks it in the widget.
import type { ScriptBundle } from './script-bundles.ts';

const samples = [
  'What does fault code E-104 mean on the HL-400 lathe?',
  'How do I fix VPN error 809?',
  'What torque for an M12 bolt of class 10.9?',
  '注塑机报警 M-05 是什么意思？',
  '员工每年有几天带薪年假？',
  '出差去上海住宿费每晚最多报销多少？',
];

/**
 * Line icons drawn inline (24×24, stroke in the text colour): emoji render as empty boxes on machines without an emoji
 * font, which many office desktops and servers lack.
 */
const icons = {
  computer: '<rect x="3" y="4" width="18" height="12" rx="1.5"/><path d="M8 20h8M12 16v4"/>',
  wrench: '<path d="M14.7 6.3a4 4 0 0 0-5.4 5.1L4 16.7V20h3.3l5.3-5.3a4 4 0 0 0 5.1-5.4l-2.5 2.5-2.4-.6-.6-2.4z"/>',
  document: '<path d="M6 3h8l4 4v14H6z"/><path d="M14 3v4h4M9 12h6M9 16h6"/>',
  helmet: '<path d="M4 16a8 8 0 0 1 16 0"/><path d="M2.5 16h19v2.5h-19zM12 8v4M9 9.5V12M15 9.5V12"/>',
};

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0f766e"/><path d="M9 11.5a7 7 0 1 1 7 7V22" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round"/><circle cx="16" cy="26" r="1.8" fill="#fff"/></svg>`;

function icon(name: keyof typeof icons): string {
  return `<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round">${icons[name]}</svg>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

export function demoPage(bundle: ScriptBundle): string {
  const suggestions = escapeHtml(JSON.stringify(samples.slice(0, 4)));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hengli Help Desk Portal</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>
  body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", "PingFang SC", sans-serif; color: #1f2937; background: #f3f4f6; }
  .top { background: #111827; color: #fff; padding: 14px 28px; display: flex; gap: 24px; align-items: center; }
  .top strong { font-size: 18px; } .top span { color: #d1d5db; font-size: 14px; }
  main { max-width: 960px; margin: 24px auto; padding: 0 20px; display: grid; grid-template-columns: 2fr 1fr; gap: 20px; }
  section, aside { background: #fff; border-radius: 10px; padding: 18px 22px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
  h1 { font-size: 22px; margin-top: 0; } h2 { font-size: 16px; }
  ul.samples { padding-left: 18px; } ul.samples button { background: none; border: none; color: #1d4ed8; text-decoration: underline; cursor: pointer; font: inherit; text-align: left; padding: 2px 0; }
  .tiles { display: grid; grid-template-columns: repeat(2, 1fr); gap: 10px; }
  .tile { border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px; font-size: 14px; display: flex; align-items: center; gap: 8px; }
  .tile .icon { width: 20px; height: 20px; flex: none; color: #0f766e; }
  @media (max-width: 700px) { main { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<div class="top"><strong>Hengli Help Desk</strong><span>IT · Maintenance · HR · 服务台</span></div>
<main>
  <section>
    <h1>How can we help? · 有什么可以帮您？</h1>
    <p>Ask the assistant (bottom right) about equipment manuals and fault codes, maintenance procedures, IT and HR
    policies. Answers cite the document, page and heading they come from. 可以用中文提问。</p>
    <h2>Try these questions · 试试这些问题</h2>
    <ul class="samples">${samples.map((sample) => `<li><button type="button" data-question="${escapeHtml(sample)}">${escapeHtml(sample)}</button></li>`).join('')}</ul>
  </section>
  <aside>
    <h2>Service catalogue</h2>
    <div class="tiles"><div class="tile">${icon('computer')}IT accounts</div><div class="tile">${icon('wrench')}Maintenance</div><div class="tile">${icon('document')}HR policies</div><div class="tile">${icon('helmet')}Safety</div></div>
    <p style="font-size:13px;color:#4b5563">Help desk: extension 8000 · 服务台分机 8000</p>
  </aside>
</main>
<script src="/widget/${bundle.version}/widget.js" integrity="${bundle.integrity}" crossorigin="anonymous" data-key="pk_demo"
  data-title="Help desk assistant · 服务台助手" data-suggestions="${suggestions}"
  data-helpdesk-text="Contact the help desk (ext. 8000) · 联系服务台（分机 8000）" async></script>
<script>
  document.querySelectorAll('[data-question]').forEach(function (button) {
    button.addEventListener('click', function () {
      var chat = document.querySelector('kb-chat');
      if (!chat) return;
      chat.open();
      var input = chat.shadowRoot.querySelector('textarea');
      input.value = button.getAttribute('data-question');
      chat.shadowRoot.querySelector('form').requestSubmit();
    });
  });
</script>
</body>
</html>`;
}
