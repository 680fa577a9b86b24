// Photos from the camera, shrunk one at a time as they arrive (each finished, its bitmap
// freed, before the next starts), shown as thumbnails that can be taken back.

import { t } from '../i18n/index.js';
import { preparePhoto } from '../photos.js';
import { blobUrl, h } from './dom.js';

function figure(photo, onRemove) {
  const element = h('figure', null, h('img', { src: blobUrl(photo.thumb), alt: t('visit.photo') }),
    onRemove ? h('button', {
      type: 'button', class: 'remove', 'aria-label': t('visit.removePhoto'),
      onclick: () => { onRemove(photo); element.remove(); },
    }, '×') : null);
  return element;
}

// kept: photos already queued with the record (shown, not removable here).
// -> {elements, photos(): the new ones, ready(): resolves once every chosen photo is done}
export function photoPicker(kept = []) {
  const added = [];
  let work = Promise.resolve();
  const thumbs = h('div', { class: 'photos' }, kept.filter((p) => p.thumb).map((p) => figure(p, null)));
  const status = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const input = h('input', {
    type: 'file', accept: 'image/*', capture: 'environment', multiple: true, class: 'visually-hidden', id: 'camera',
  });
  const remove = (photo) => added.splice(added.indexOf(photo), 1);

  async function shrinkAll(files) {
    for (const [index, file] of files.entries()) {
      status.textContent = t('visit.processing', { n: index + 1, total: files.length });
      try {
        const photo = await preparePhoto(file);
        added.push(photo);
        thumbs.append(figure(photo, remove));
      } catch {
        status.textContent = t('visit.photoFailed');
        return;
      }
    }
    status.textContent = '';
  }

  input.addEventListener('change', () => {
    const files = [...input.files];
    input.value = '';
    work = work.then(() => shrinkAll(files));
  });

  return {
    elements: [thumbs, input, h('label', { for: 'camera', class: 'button big' }, `＋ ${t('visit.takePhoto')}`), status],
    photos: () => added.map(({ uuid, blob, thumb, sha256, width, height, size }) =>
      ({ uuid, blob, thumb, sha256, width, height, size })),
    ready: () => work,
  };
}
