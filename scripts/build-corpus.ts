// Builds the binary documents of docs-corpus (PDF and DOCX) from their Markdown sources in
// scripts/corpus-sources/, so that the demo corpus has real multi-page PDFs and Word files whose text is in the
// repository. Run with `npm run corpus:build`. Chinese PDFs embed (a subset of) WenQuanYi Micro Hei, from Debian's
// fonts-wqy-microhei package; PDF dates are fixed so that the same sources give the same text and layout.
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import PDFDocument from 'pdfkit';
import { AlignmentType, Document, HeadingLevel, Packer, Paragraph, Table, TableCell, TableRow, TextRun, WidthType } from 'docx';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sourcesDir = path.join(root, 'scripts', 'corpus-sources');
const outputDir = path.join(root, 'docs-corpus');
const CJK_FONT = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';
const FIXED_DATE = new Date('2026-01-15T08:00:00Z');

/** Which source becomes which format. */
const targets: { source: string; format: 'pdf' | 'docx' }[] = [
  { source: 'manuals/cnc-lathe-hl-400-manual.md', format: 'pdf' },
  { source: 'manuals/hydraulic-press-hp-250.md', format: 'pdf' },
  { source: 'manuals/注塑机-IM-160-操作手册.md', format: 'pdf' },
  { source: 'manuals/数控铣床-VM-850-维护手册.md', format: 'pdf' },
  { source: 'maintenance/lockout-tagout-procedure.md', format: 'pdf' },
  { source: 'hr/travel-and-expenses.md', format: 'pdf' },
  { source: 'manuals/forklift-fl-25-manual.md', format: 'docx' },
  { source: 'manuals/激光打标机-LM-20.md', format: 'docx' },
  { source: 'maintenance/calibration-procedure.md', format: 'docx' },
  { source: 'hr/差旅费报销办法.md', format: 'docx' },
];

type Block =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; ordered: boolean; items: string[] }
  | { kind: 'table'; rows: string[][] }
  | { kind: 'pagebreak' };

function parseSource(text: string): { title: string; blocks: Block[] } {
  let title = '';
  const frontMatter = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (frontMatter) {
    title = /^title:\s*(.+)$/m.exec(frontMatter[1]!)?.[1]?.trim() ?? '';
    text = text.slice(frontMatter[0].length);
  }
  const blocks: Block[] = [];
  const lines = text.split('\n');
  let paragraph: string[] = [];
  const endParagraph = () => {
    if (paragraph.length > 0) blocks.push({ kind: 'paragraph', text: paragraph.join(' ') });
    paragraph = [];
  };
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const heading = /^(#{1,4})\s+(.+)$/.exec(line);
    if (line.trim() === '\\pagebreak') {
      endParagraph();
      blocks.push({ kind: 'pagebreak' });
    } else if (heading) {
      endParagraph();
      blocks.push({ kind: 'heading', level: heading[1]!.length, text: heading[2]! });
      if (!title && heading[1]!.length === 1) title = heading[2]!;
    } else if (line.startsWith('|')) {
      endParagraph();
      const rows: string[][] = [];
      while (index < lines.length && lines[index]!.startsWith('|')) {
        const row = lines[index]!;
        if (!/^\|[\s:|-]+\|$/.test(row.trim()))
          rows.push(
            row
              .trim()
              .replace(/^\||\|$/g, '')
              .split('|')
              .map((cell) => cell.trim()),
          );
        index++;
      }
      index--;
      blocks.push({ kind: 'table', rows });
    } else if (/^(\d+\.|-)\s+/.test(line)) {
      endParagraph();
      const ordered = /^\d+\./.test(line);
      const items: string[] = [];
      while (index < lines.length && /^(\d+\.|-)\s+/.test(lines[index]!)) {
        items.push(lines[index]!.replace(/^(\d+\.|-)\s+/, ''));
        index++;
      }
      index--;
      blocks.push({ kind: 'list', ordered, items });
    } else if (line.trim() === '') {
      endParagraph();
    } else {
      paragraph.push(line.trim());
    }
  }
  endParagraph();
  return { title, blocks };
}

function isChinese(text: string): boolean {
  return (text.match(/\p{Script=Han}/gu)?.length ?? 0) > 50;
}

async function writePdf(title: string, blocks: Block[], chinese: boolean, file: string): Promise<void> {
  if (chinese && !existsSync(CJK_FONT)) throw new Error(`Chinese PDFs need ${CJK_FONT}: apt-get install fonts-wqy-microhei`);
  const document = new PDFDocument({ size: 'A4', margin: 60, info: { Title: title, Author: 'Hengli Precision Manufacturing', CreationDate: FIXED_DATE, ModDate: FIXED_DATE }, bufferPages: true });
  if (chinese) document.registerFont('body', CJK_FONT, 'WenQuanYiMicroHei');
  const bodyFont = chinese ? 'body' : 'Helvetica';
  const boldFont = chinese ? 'body' : 'Helvetica-Bold';
  const stream = createWriteStream(file);
  document.pipe(stream);
  for (const block of blocks) {
    switch (block.kind) {
      case 'pagebreak':
        document.addPage();
        break;
      case 'heading':
        document
          .moveDown(0.6)
          .font(boldFont)
          .fontSize(block.level === 1 ? 18 : block.level === 2 ? 14 : 12)
          .text(block.text)
          .moveDown(0.3);
        break;
      case 'paragraph':
        document.font(bodyFont).fontSize(10.5).text(block.text, { align: 'left' }).moveDown(0.5);
        break;
      case 'list':
        block.items.forEach((item, index) =>
          document
            .font(bodyFont)
            .fontSize(10.5)
            .text(`${block.ordered ? `${index + 1}.` : '•'} ${item}`, { indent: 10 }),
        );
        document.moveDown(0.5);
        break;
      case 'table':
        block.rows.forEach((row, index) =>
          document
            .font(index === 0 ? boldFont : bodyFont)
            .fontSize(10)
            .text(row.join(' | ')),
        );
        document.moveDown(0.5);
        break;
    }
  }
  // Page footers, written after layout so that every page gets its number.
  const range = document.bufferedPageRange();
  for (let page = range.start; page < range.start + range.count; page++) {
    document.switchToPage(page);
    document
      .font(bodyFont)
      .fontSize(8)
      .text(`${title} — ${page + 1}/${range.count}`, 60, document.page.height - 40, { lineBreak: false });
  }
  document.end();
  await new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
}

async function writeDocx(title: string, blocks: Block[], file: string): Promise<void> {
  const headingLevels = [HeadingLevel.HEADING_1, HeadingLevel.HEADING_2, HeadingLevel.HEADING_3, HeadingLevel.HEADING_4];
  const children: (Paragraph | Table)[] = [];
  for (const block of blocks) {
    if (block.kind === 'heading') children.push(new Paragraph({ text: block.text, heading: headingLevels[block.level - 1] }));
    else if (block.kind === 'paragraph') children.push(new Paragraph({ children: [new TextRun(block.text)] }));
    else if (block.kind === 'list') block.items.forEach((item, index) => children.push(new Paragraph({ children: [new TextRun(`${block.ordered ? `${index + 1}.` : '•'} ${item}`)] })));
    else if (block.kind === 'table') {
      children.push(
        new Table({
          width: { size: 100, type: WidthType.PERCENTAGE },
          rows: block.rows.map(
            (row, index) =>
              new TableRow({
                children: row.map((cell) => new TableCell({ children: [new Paragraph({ children: [new TextRun({ text: cell, bold: index === 0 })], alignment: AlignmentType.LEFT })] })),
              }),
          ),
        }),
      );
    }
  }
  const document = new Document({ creator: 'Hengli Precision Manufacturing', title, sections: [{ children }] });
  writeFileSync(file, await Packer.toBuffer(document));
}

for (const target of targets) {
  const text = readFileSync(path.join(sourcesDir, target.source), 'utf8');
  const { title, blocks } = parseSource(text);
  const output = path.join(outputDir, target.source.replace(/\.md$/, `.${target.format}`));
  mkdirSync(path.dirname(output), { recursive: true });
  if (target.format === 'pdf') await writePdf(title, blocks, isChinese(text), output);
  else await writeDocx(title, blocks, output);
  process.stdout.write(`wrote ${path.relative(root, output)}\n`);
}
