// Photos from the camera, shrunk one at a time as they arrive (each finished, its bitmap
// freed, before the next starts), shown as thumbnails that can be taken back.

import { PHOTO_MAX_BYTES, PHOTOS_PER_VISIT } from '../codes.js';
import { formatBytes, t } from '../i18n/index.js';
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

// A photo the server would refuse is refused here, when it is picked: a visit holding one
// could never be sent. The limits are the server's own (codes.js).
function refusal(photo, count) {
  if (count >= PHOTOS_PER_VISIT) return t('visit.photoTooMany', { max: PHOTOS_PER_VISIT });
  if (photo.size > PHOTO_MAX_BYTES) return t('visit.photoTooLarge', { max: formatBytes(PHOTO_MAX_BYTES) });
  return null;
}

// kept: photos already queued with the record (a quarantined visit's), which the cadre may
// take back too.
// -> {elements, photos(): the new ones, removed(): uuids of kept ones taken back,
//     ready(): resolves once every chosen photo is done}
export function photoPicker(kept = []) {
  const added = [];
  const removed = new Set();
  let work = Promise.resolve();
  const thumbs = h('div', { class: 'photos' },
    kept.filter((p) => p.thumb).map((p) => figure(p, () => removed.add(p.uuid))));
  const status = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const input = h('input', {
    type: 'file', accept: 'image/*', capture: 'environment', multiple: true, class: 'visually-hidden', id: 'camera',
  });
  const remove = (photo) => added.splice(added.indexOf(photo), 1);
  const count = () => kept.length - removed.size + added.length;

  async function shrinkAll(files) {
    for (const [index, file] of files.entries()) {
      status.textContent = t('visit.processing', { n: index + 1, total: files.length });
      let photo;
      try {
        photo = await preparePhoto(file);
      } catch {
        status.textContent = t('visit.photoFailed');
        return;
      }
      const refused = refusal(photo, count());
      if (refused) {
        status.textContent = refused;
        return;
      }
      added.push(photo);
      thumbs.append(figure(photo, remove));
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
    removed: () => [...removed],
    ready: () => work,
  };
}
