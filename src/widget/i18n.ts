// The widget's texts in Chinese and English, chosen from data-lang, else the page language, else the browser's.

export type WidgetLanguage = 'zh' | 'en';

export const texts = {
  en: {
    title: 'Help desk assistant',
    open: 'Open the help desk assistant',
    close: 'Close',
    inputLabel: 'Your question',
    // Short enough for one line of the narrowest panel; the key hint is the input's description (and tooltip).
    placeholder: 'Ask a question…',
    inputHint: 'Enter sends, Shift+Enter starts a new line.',
    send: 'Send',
    stop: 'Stop',
    retry: 'Retry',
    welcome: 'Hello! Ask me about equipment, maintenance, IT or HR policies.',
    suggestions: 'Suggested questions',
    thinking: 'Searching the knowledge base…',
    sources: 'Sources',
    source: 'Source',
    page: 'page',
    ocr: 'read from a scan (OCR)',
    openDocument: 'Open the document',
    alsoIn: 'Also in',
    notFound: 'This is not in the knowledge base.',
    helpdesk: 'Please contact the help desk.',
    helpful: 'Helpful',
    notHelpful: 'Not helpful',
    thanks: 'Thanks for the feedback.',
    stopped: '(stopped)',
    errorNetwork: 'Cannot reach the server. Check your connection and retry.',
    errorRateLimited: 'Too many questions in a short time. Try again in {seconds} seconds.',
    errorServer: 'The server had a problem answering. Please retry.',
    errorDenied: 'This page is not allowed to use the assistant.',
    clear: 'New conversation',
  },
  zh: {
    title: '服务台助手',
    open: '打开服务台助手',
    close: '关闭',
    inputLabel: '您的问题',
    placeholder: '请输入问题…',
    inputHint: 'Enter 发送，Shift+Enter 换行。',
    send: '发送',
    stop: '停止',
    retry: '重试',
    welcome: '您好！可以问我设备、维护、IT 或人事制度方面的问题。',
    suggestions: '推荐问题',
    thinking: '正在检索知识库…',
    sources: '资料来源',
    source: '来源',
    page: '第{n}页',
    ocr: '扫描件识别（OCR）',
    openDocument: '打开文档',
    alsoIn: '另见于',
    notFound: '知识库中没有这个问题的答案。',
    helpdesk: '请联系服务台。',
    helpful: '有帮助',
    notHelpful: '没有帮助',
    thanks: '感谢您的反馈。',
    stopped: '（已停止）',
    errorNetwork: '无法连接服务器，请检查网络后重试。',
    errorRateLimited: '提问过于频繁，请在 {seconds} 秒后重试。',
    errorServer: '服务器处理出错，请重试。',
    errorDenied: '此页面无权使用该助手。',
    clear: '新对话',
  },
} as const;

export type Texts = { [K in keyof (typeof texts)['en']]: string };

export function pickLanguage(explicit: string | null | undefined): WidgetLanguage {
  const candidate = explicit || document.documentElement.lang || navigator.language || 'en';
  return candidate.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}
