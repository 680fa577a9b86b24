// The to-do list (待办): the families' own reports (自主申报) waiting for a visit, late ones
// first; each line also shows under its household.

import { formatDate, formatDateTime, relativeDays, t } from '../i18n/index.js';
import { reportLate, todoRows } from '../model.js';
import { fill, h } from './dom.js';

export function reportItem({ report, household, answered }, { withHousehold = false } = {}) {
  const late = reportLate(report);
  const when = report.due_at
    ? h('span', { class: late ? 'due overdue' : 'due' },
      t(late ? 'report.late' : 'report.due', { when: relativeDays(Date.parse(report.due_at)), date: formatDate(report.due_at) }))
    : null;
  return h('li', { class: 'report', 'data-report': report.id },
    withHousehold
      ? h('a', { class: 'report-household', href: `#/h/${household.id}` },
        h('strong', null, household.head_name), ` · ${household.village?.name || ''}`)
      : null,
    h('div', { class: 'chips' },
      h('span', { class: 'chip event' }, t(`reportCategory.${report.category}`)),
      report.urgent ? h('span', { class: 'chip rejected' }, t('report.urgent')) : null,
      answered ? h('span', { class: 'chip waiting' }, t('report.answeredHere')) : null),
    h('p', null, report.description),
    h('p', { class: 'muted small' }, t('report.received', { when: formatDateTime(report.received_at) }), ' ', when));
}

export async function todoView(root, ctx) {
  async function render() {
    const rows = await todoRows(ctx.session.user.id);
    const late = rows.filter((row) => reportLate(row.report)).length;
    fill(root,
      h('a', { class: 'back', href: '#/' }, `‹ ${t('nav.households')}`),
      h('h1', null, t('todo.title')),
      h('p', { class: 'muted' }, t('todo.count', { n: rows.length, late })),
      rows.length
        ? h('ul', { class: 'plain reports' }, rows.map((row) => reportItem(row, { withHousehold: true })))
        : h('p', { class: 'empty' }, t('todo.none')));
  }
  await render();
  return { refresh: render };
}
