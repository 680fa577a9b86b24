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

// Object URLs for blobs shown in the current view, released when the view changes.
const urls = [];
export function blobUrl(blob) {
  const url = URL.createObjectURL(blob);
  urls.push(url);
  return url;
}
export function releaseBlobUrls() {
  urls.splice(0).forEach((url) => URL.revokeObjectURL(url));
}

export function klassBadge(klass, label) {
  return h('span', { class: `badge k-${klass}`, title: label }, klass);
}
