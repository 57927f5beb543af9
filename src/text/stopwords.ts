// Stop lists: words that carry no retrieval signal. English: a short classic list (long lists hurt technical text,
// where "off", "on", "up" matter less than codes but still matter in phrases). Chinese: function words and question
// words, used for query coverage and sentence scoring (BM25 indexes bigrams and lets IDF discount them).

export const englishStopwords = new Set(
  `a an and are as at be been being but by can could did do does doing for from had has have having he her his how i
  if in into is it its itself me my of on or our ours she should so than that the their them then there these they
  this those to too was we were what when where which while who whom why will with would you your yours about
  please tell know want need get must shall may might also any long often much many mean means happen happens
  there here just only still yet`.split(/\s+/),
);

export const chineseStopwords = new Set(
  `的 了 是 在 和 与 及 或 吗 呢 吧 啊 呀 么 之 其 而 把 被 对 从 向 为 以 于 由 要 会 能 将 就 也 都 还 又 很 该 这 那
  这个 那个 这些 那些 什么 多少 怎么 怎样 如何 哪 哪些 哪个 哪里 是否 是不是 有没有 可以 可否 需要 应该 应当 请问 请 问 我 我们 你 你们
  他 她 它 他们 公司 一下 如果 时候 怎么办 为什么 有 没有 多久 几 几个 多长 时间
  几天 几次 几年 几月 几个月 几小时 几种 多少天 多少次 多少钱 多长时间 多大 多高 多重 哪天 何时 几点 几点钟 什么时候`.split(/\s+/),
);
