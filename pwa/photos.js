// Photos are shrunk on the phone before they are queued, one at a time, so a cheap phone
// never holds several full-size bitmaps: long edge 1600 px, JPEG quality 0.7.

import { uuid } from './util.js';

export const LONG_EDGE = 1600;
export const QUALITY = 0.7;
const THUMB_EDGE = 320;

function loadImage(file) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => { URL.revokeObjectURL(url); resolve(img); };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error('not an image')); };
    img.src = url;
  });
}

// A decoded image already at the target size where the browser can resize while decoding;
// else the <img> itself, which the canvas then scales.
async function decodeAtSize(file, img, width, height) {
  if (typeof createImageBitmap === 'function') {
    try {
      const bitmap = await createImageBitmap(file, {
        resizeWidth: width, resizeHeight: height, resizeQuality: 'high', imageOrientation: 'from-image',
      });
      if (bitmap.width === width && bitmap.height === height) return bitmap;
      bitmap.close();
    } catch {
      // Older browsers reject the options: fall back to the canvas.
    }
  }
  return img;
}

async function encode(source, width, height, quality) {
  if (typeof OffscreenCanvas === 'function' && OffscreenCanvas.prototype.convertToBlob) {
    const canvas = new OffscreenCanvas(width, height);
    draw(canvas.getContext('2d'), source, width, height);
    return canvas.convertToBlob({ type: 'image/jpeg', quality });
  }
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  draw(canvas.getContext('2d'), source, width, height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
  canvas.width = 0; // let the pixels go now, not at the next garbage collection
  return blob;
}

function draw(context, source, width, height) {
  context.fillStyle = '#fff'; // transparent PNGs become white, not black
  context.fillRect(0, 0, width, height);
  context.drawImage(source, 0, 0, width, height);
}

export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const fit = (width, height, edge) => {
  const scale = Math.min(1, edge / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
};

// -> {uuid, blob, thumb, sha256, width, height, size}
export async function preparePhoto(file) {
  const img = await loadImage(file);
  const [width, height] = fit(img.naturalWidth, img.naturalHeight, LONG_EDGE);
  const source = await decodeAtSize(file, img, width, height);
  try {
    const blob = await encode(source, width, height, QUALITY);
    const [tw, th] = fit(width, height, THUMB_EDGE);
    const thumb = await encode(source, tw, th, 0.6);
    return { uuid: uuid(), blob, thumb, sha256: await sha256Hex(blob), width, height, size: blob.size };
  } finally {
    source.close?.();
    img.src = '';
  }
}
