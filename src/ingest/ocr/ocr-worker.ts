// The OCR thread: reads one page image at a time, sent by ocr.ts, with PaddleOCR's PP-OCRv4 Chinese + English models
// (paddle.ts).
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { describeError } from '../../errors.ts';
import type { OcrRequest, OcrReply } from './ocr.ts';
import { createPaddleOcr } from './paddle.ts';
import { runInBackground } from '../../thread-priority.ts';

/**
 * Operator threads of each ONNX model run. One: a server answering queries on a two-core machine keeps a core for
 * them while a scan is read (issue 13: search p99 within 2× of idle). Range 1..cores; more reads one page faster.
 */
const ONNX_THREADS = 1;

/**
 * Longest side, in pixels, a page is read at: a 300-dpi A4 scan (3508 px) is halved, which reads body text as well
 * and takes a quarter of the memory and of the line crops' work. Range 1600..4000.
 */
const MAXIMUM_SIDE_PIXELS = 2400;

/** Pages smaller than this (a thumbnail, a stamp) are enlarged first, so that their lines are not a few pixels high. */
const MINIMUM_SIDE_PIXELS = 800;

runInBackground();
const engine = createPaddleOcr({ threads: ONNX_THREADS });

/** The page upright (EXIF orientation applied), within the sizes above, as a lossless image. */
async function normalizedPage(image: Uint8Array): Promise<Buffer> {
  const input = sharp(image, { failOn: 'error', limitInputPixels: 200_000_000 }).rotate();
  const metadata = await input.metadata();
  const upright = (metadata.orientation ?? 1) >= 5;
  const width = (upright ? metadata.height : metadata.width) ?? 0;
  const height = (upright ? metadata.width : metadata.height) ?? 0;
  if (width === 0 || height === 0) throw new Error('the image has no size');
  const longest = Math.max(width, height);
  const scale = longest > MAXIMUM_SIDE_PIXELS ? MAXIMUM_SIDE_PIXELS / longest : longest < MINIMUM_SIDE_PIXELS ? MINIMUM_SIDE_PIXELS / longest : 1;
  const page = scale === 1 ? input : input.resize({ width: Math.round(width * scale), height: Math.round(height * scale) });
  return page.flatten({ background: '#ffffff' }).png({ compressionLevel: 0 }).toBuffer();
}

parentPort!.on('message', async (request: OcrRequest) => {
  const started = performance.now();
  let reply: OcrReply;
  try {
    const [ocr, page] = await Promise.all([engine, normalizedPage(request.image)]);
    reply = { id: request.id, lines: await ocr.read(page), milliseconds: performance.now() - started };
  } catch (error) {
    reply = { id: request.id, error: describeError(error) };
  }
  parentPort!.postMessage(reply);
});
