// "My households": overdue first, then by due date; search by name or village.

import { formatDate, relativeDays, t } from '../i18n/index.js';
import { householdRows, matches, reportLate, todoRows } from '../model.js';
import { fill, h, klassBadge } from './dom.js';

function dueLabel(due) {
  if (due.last === null && due.due === null) return h('span', { class: 'due overdue' }, t('due.never'));
  if (due.due === null) return null;
  const when = relativeDays(due.due);
  return due.overdue
    ? h('span', { class: 'due overdue' }, t('due.overdue', { when }))
    : h('span', { class: 'due' }, t('due.next', { when }));
}

function card({ household, due, pending }) {
  return h('li', null, h('a', { class: 'card', href: `#/h/${household.id}` },
    h('div', { class: 'card-title' },
      klassBadge(household.klass, t(`klass.${household.klass}`)),
      h('strong', null, household.head_name),
      pending ? h('span', { class: 'chip waiting' }, t('list.pending', { n: pending })) : null),
    h('div', { class: 'card-meta' }, `${household.village?.name || ''} · ${household.code}`),
    h('div', { class: 'card-meta' },
      h('span', null, due.last ? t('list.last', { date: formatDate(due.last) }) : t('list.neverVisited')),
      dueLabel(due)),
  ));
}

export async function householdsView(root, ctx) {
  const search = h('input', {
    type: 'search', class: 'search', placeholder: t('list.search'), 'aria-label': t('list.search'),
    value: ctx.state.search || '',
  });
  const count = h('p', { class: 'muted' });
  const list = h('ul', { class: 'cards' });
  const todo = h('a', { class: 'button big todo-link', href: '#/todo', hidden: true });
  let rows = [];

  function draw() {
    ctx.state.search = search.value;
    const shown = rows.filter((row) => matches(row, search.value));
    const overdue = shown.filter((row) => row.due.overdue).length;
    count.textContent = t('list.count', { n: shown.length, overdue });
    list.replaceChildren(...shown.map(card));
    if (!rows.length) list.append(h('li', { class: 'empty' }, ctx.online() ? t('list.loading') : t('list.emptyOffline')));
  }

  async function refresh() {
    const [households, reports] = await Promise.all([
      householdRows(ctx.session.user.id), todoRows(ctx.session.user.id),
    ]);
    rows = households;
    const late = reports.filter((row) => reportLate(row.report)).length;
    todo.textContent = t(late ? 'todo.linkLate' : 'todo.link', { n: reports.length, late });
    todo.className = late ? 'button big todo-link late' : 'button big todo-link';
    todo.hidden = !reports.length;
    draw();
  }

  search.addEventListener('input', draw);
  fill(root, h('section', null, h('h1', null, t('list.title')), todo, search, count, list));
  await refresh();
  return { refresh };
}
