// A tiny element builder: text always goes in as text, never as HTML.

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected']);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  const props = {};
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (PROPERTIES.has(name)) props[name] = value;
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  Object.assign(el, props); // after the children, so a <select> has its options
  return el;
}

// Object URLs for blobs a view shows; each route starts a new batch and frees the last one
// once its own view is on screen.
let batch = [];
export function blobUrl(blob) {
  const url = URL.createObjectURL(blob);
  batch.push(url);
  return url;
}
export function newBlobBatch() {
  const previous = batch;
  batch = [];
  return () => previous.forEach((url) => URL.revokeObjectURL(url));
}

// replaceChildren without the "null" text a missing optional part would leave.
export function fill(root, ...children) {
  root.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

export function klassBadge(klass, label) {
  return h('span', { class: `badge k-${klass}`, title: label }, klass);
}
