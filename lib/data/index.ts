/**
 * Loading user training data: a byte-level tokenizer, PNG/JPEG decoding and resizing, and the
 * JSONL dataset format.
 * @packageDocumentation
 */
export { ByteTokenizer, BYTE_TOKENIZER_TAGS, IMAGE_PLACEHOLDER } from './byte-tokenizer.js';
export { decodeImage, resizeImage, loadImage, type RgbImage, type RasterImage, type DecodeImageOptions } from './image-decode.js';
export { loadJsonlDataset, DatasetError, type LoadJsonlDatasetOptions } from './jsonl-dataset.js';
