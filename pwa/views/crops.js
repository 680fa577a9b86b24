// The crops of a visit: kiwifruit, tobacco or another named crop; area in mu, plants or yield,
// expected income typed in yuan and sent as integer fen.

import { CROPS } from '../codes.js';
import { t } from '../i18n/index.js';
import { fenToYuan, formatArea, isArea, uuid, yuanToFen } from '../util.js';
import { h } from './dom.js';

const WHOLE = /^\d{1,9}$/;

function numberInput(name, value, mode = 'numeric') {
  return h('input', { name, inputmode: mode, autocomplete: 'off', value: value ?? '' });
}

export function cropFieldset(crop, onRemove) {
  const kind = h('select', { name: 'crop', value: crop.crop || 'kiwifruit' },
    CROPS.map((c) => h('option', { value: c }, t(`crop.${c}`))));
  const named = h('label', { class: 'crop-name' }, t('crop.name'),
    h('input', { name: 'crop_name', value: crop.crop_name || '', maxlength: 32 }));
  const showName = () => { named.hidden = kind.value !== 'other'; };
  kind.addEventListener('change', showName);
  const fieldset = h('fieldset', { class: 'crop', 'data-uuid': crop.uuid || uuid() },
    h('div', { class: 'crop-top' }, h('label', null, t('crop.kind'), kind),
      h('button', { type: 'button', class: 'link danger', onclick: () => onRemove(fieldset) }, t('crop.remove'))),
    named,
    h('div', { class: 'grid2' },
      h('label', null, t('crop.area'), numberInput('area_mu', formatArea(crop.area_mu), 'decimal')),
      h('label', null, t('crop.income'), numberInput('income_yuan', fenToYuan(crop.expected_income_fen), 'decimal')),
      h('label', null, t('crop.plants'), numberInput('plants', crop.plants)),
      h('label', null, t('crop.yield'), numberInput('yield_kg', crop.yield_kg))));
  showName();
  return fieldset;
}

export function readCrop(fieldset, seasonYear, errors, index) {
  const value = (name) => fieldset.querySelector(`[name=${name}]`).value.trim();
  const crop = {
    uuid: fieldset.dataset.uuid, crop: value('crop'),
    crop_name: value('crop') === 'other' ? value('crop_name') || null : null,
    area_mu: value('area_mu'), plants: null, yield_kg: null, expected_income_fen: null,
    season_year: seasonYear,
  };
  const fail = (key) => errors.push(`${t('crop.label', { n: index + 1 })}${t('ui.colon')}${t(key)}`);
  if (crop.crop === 'other' && !crop.crop_name) fail('crop.needName');
  if (!isArea(crop.area_mu)) fail('crop.badArea');
  for (const name of ['plants', 'yield_kg']) {
    if (!value(name)) continue;
    if (WHOLE.test(value(name))) crop[name] = Number(value(name));
    else fail('crop.badNumber');
  }
  if (value('income_yuan')) {
    crop.expected_income_fen = yuanToFen(value('income_yuan'));
    if (crop.expected_income_fen === null) fail('crop.badIncome');
  }
  return crop;
}
