// Optical character recognition of page images (scanned PDF pages, PNG, JPEG and TIFF files), for the parsers.
// The models run in a thread of their own (ocr-worker.ts), started by the first page and kept while pages come:
// never on the thread that called, which may be a server's event loop; and a page that hangs past its file's time
// limit is stopped by ending that thread, which a call inside the same thread could not do.
import { Worker } from 'node:worker_threads';
import { KbError } from '../../errors.ts';
import { siblingModule } from '../../module-file.ts';

/** The limits an ingest puts on OCR (KB_OCR_MAX_PAGES, KB_OCR_FILE_SECONDS). */
export interface OcrOptions {
  /** Pages of one file read by OCR at most; 0 turns OCR off. Pages beyond it are left out, and the file says so. */
  maxPages: number;
  /** Seconds of OCR one file may take; pages not read by then are left out, and the file says so. */
  fileSeconds: number;
}

export const DEFAULT_OCR_OPTIONS: OcrOptions = { maxPages: 100, fileSeconds: 900 };

/** A run of text the detector found (a line, or part of one where a wide gap splits it), with its box in pixels. */
export interface OcrLine {
  text: string;
  /** The recognizer's mean character probability, 0..1. */
  confidence: number;
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface OcrRequest {
  id: number;
  image: Uint8Array;
}

export type OcrReply = { id: number; lines: OcrLine[]; milliseconds: number } | { id: number; error: string };

/** Lines read with a lower confidence are noise (a stain, a stamp, a photo), not text. Range 0.3..0.8. */
const MINIMUM_LINE_CONFIDENCE = 0.5;

/** A vertical gap above a line larger than this many line heights starts a new paragraph. Range 0.8..2. */
const PARAGRAPH_GAP_LINE_HEIGHTS = 1.2;

/** A line this many times the usual line height is in larger type: a title or a heading. Range 1.2..1.6. */
const LARGER_TYPE_LINE_HEIGHTS = 1.3;

/** The OCR thread is ended after this long without a page, freeing its models (~150 MB). */
const IDLE_MILLISECONDS = 30_000;

let worker: Worker | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let nextId = 0;
const pending = new Map<number, { resolve: (reply: OcrReply) => void; reject: (error: Error) => void }>();

function stopWorker(reason: string): void {
  const stopping = worker;
  worker = undefined;
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  for (const [id, task] of pending) {
    pending.delete(id);
    task.reject(new Error(reason));
  }
  void stopping?.terminate();
}

function ocrWorker(): Worker {
  if (worker) return worker;
  const started = new Worker(new URL('../../worker-entry.mjs', import.meta.url), { workerData: { entry: siblingModule('./ocr-worker', import.meta.url).href } });
  started.on('message', (reply: OcrReply) => {
    const task = pending.get(reply.id);
    pending.delete(reply.id);
    task?.resolve(reply);
    if (pending.size === 0) started.unref();
  });
  started.on('error', (error) => {
    if (worker === started) stopWorker(`the OCR thread stopped: ${error.message}`);
  });
  started.on('exit', (code) => {
    if (worker === started) stopWorker(`the OCR thread exited with code ${code}`);
  });
  worker = started;
  return started;
}

/**
 * Reads one page image (any format sharp decodes: PNG, JPEG, TIFF, WebP). Rejects with KB_ERR_PARSE when the image
 * cannot be decoded, and with OcrTimeout when `deadline` (a performance.now() time) passes first.
 */
export async function readPageImage(image: Uint8Array, options: { file: string; deadline: number }): Promise<OcrLine[]> {
  const remaining = options.deadline - performance.now();
  if (remaining <= 0) throw new OcrTimeout();
  const thread = ocrWorker();
  if (idleTimer) clearTimeout(idleTimer);
  thread.ref();
  const id = nextId++;
  let timer: NodeJS.Timeout | undefined;
  try {
    const reply = await new Promise<OcrReply>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      timer = setTimeout(() => {
        // The models cannot be interrupted inside a page: the thread is ended, and the next page starts another.
        pending.delete(id);
        reject(new OcrTimeout());
        stopWorker('another page ran out of OCR time');
      }, remaining);
      thread.postMessage({ id, image } satisfies OcrRequest);
    });
    if ('error' in reply) throw new KbError('KB_ERR_PARSE', { file: options.file, reason: `the image cannot be read (${reply.error})` });
    return reply.lines.filter((line) => line.confidence >= MINIMUM_LINE_CONFIDENCE);
  } finally {
    clearTimeout(timer);
    if (pending.size === 0 && worker) {
      const idle = worker;
      idleTimer = setTimeout(() => {
        if (worker === idle && pending.size === 0) stopWorker('idle');
      }, IDLE_MILLISECONDS);
      idleTimer.unref();
    }
  }
}

/** The file's OCR time ran out before this page was read. */
export class OcrTimeout extends Error {
  constructor() {
    super('the file ran out of OCR time');
  }
}

/** Ends the OCR thread now (tests, a CLI that is done). */
export function closeOcr(): void {
  stopWorker('OCR was closed');
}

/** Runs whose vertical centres are closer than this share of the line height are on one line. Range 0.3..0.7. */
const SAME_LINE_SHARE = 0.5;

/**
 * A page's text from its runs: runs on one line joined left to right, lines top to bottom, a blank line where the
 * gap above a line says a paragraph starts. One column: a two-column page comes out line by line across both.
 */
export function pageTextOf(runs: readonly OcrLine[]): string {
  const heights = runs.map((run) => run.height).sort((a, b) => a - b);
  const lineHeight = heights[Math.floor(heights.length / 2)] ?? 0;
  const lines: OcrLine[][] = [];
  for (const run of [...runs].sort((a, b) => a.top + a.height / 2 - (b.top + b.height / 2))) {
    const centre = run.top + run.height / 2;
    const line = lines[lines.length - 1];
    const lineCentre = line ? line.reduce((sum, other) => sum + other.top + other.height / 2, 0) / line.length : undefined;
    if (line && lineCentre !== undefined && Math.abs(centre - lineCentre) < SAME_LINE_SHARE * lineHeight) line.push(run);
    else lines.push([run]);
  }
  const parts: string[] = [];
  let previousBottom: number | undefined;
  let previousLarge = false;
  for (const line of lines) {
    line.sort((a, b) => a.left - b.left);
    const top = Math.min(...line.map((run) => run.top));
    // A line in larger type (a title, a heading) is a paragraph of its own, so that it is not run into the text below.
    const large = lineHeight > 0 && Math.max(...line.map((run) => run.height)) > LARGER_TYPE_LINE_HEIGHTS * lineHeight;
    const gap = previousBottom !== undefined && lineHeight > 0 && top - previousBottom > PARAGRAPH_GAP_LINE_HEIGHTS * lineHeight;
    if (parts.length > 0 && (gap || large || previousLarge) && parts[parts.length - 1] !== '') parts.push('');
    parts.push(line.map((run) => run.text).join(' '));
    previousBottom = Math.max(...line.map((run) => run.top + run.height));
    previousLarge = large;
  }
  return parts.join('\n');
}
