// #/schedules : every schedule with its next fire times and last run; pause, resume, run now,
// edit, and new ones (schedule_form.js). #/schedules?id=X marks one row (the job page links here).
import {api, seg, isAdmin} from '../api.js';
import {h, replace, badge, stateBadge, timeEl, formatTime, jobHref, message, errorText} from '../dom.js';
import {on} from '../live.js';
import {scheduleForm} from './schedule_form.js';

const REFRESH_MS = 5000;
const SHOWN_FIRE_TIMES = 3;

function cadence(schedule) {
  return h('div', null, h('code', null, schedule.cron), h('div', {class: 'muted small'}, schedule.tz || 'UTC'));
}

function fireTimes(schedule, detail) {
  const times = detail?.next_fire_times || (schedule.next_fire_ms ? [schedule.next_fire_ms] : []);
  if (!times.length) return h('span', {class: 'muted'}, schedule.status === 'ended' ? 'ended' : '–');
  const first = times.slice(0, SHOWN_FIRE_TIMES).map((t) => h('li', null, timeEl(t)));
  const rest = times.slice(SHOWN_FIRE_TIMES);
  return h('div', null, h('ol', {class: 'plain'}, first),
    rest.length ? h('details', {class: 'more'}, h('summary', null, `${rest.length} more`),
      h('ol', {class: 'plain'}, rest.map((t) => h('li', null, formatTime(t))))) : null);
}

function lastRun(schedule, detail) {
  const run = detail?.last_run || schedule.last_run;
  if (!run) return h('span', {class: 'muted'}, 'never');
  return h('div', null,
    h('a', {href: jobHref(schedule.queue, run.job_id)}, run.job_id), ' ',
    run.job_state ? stateBadge(run.job_state) : (detail && run.job_state === null ? badge('gone', 'muted') : null),
    h('div', {class: 'small'}, 'fired ', timeEl(run.fire_time_ms)));
}

export function mount(main, route) {
  const highlight = route.params.get('id');
  const admin = isAdmin();
  const tbody = h('tbody');
  const result = h('p', {class: 'message', 'data-testid': 'action-result', role: 'status', hidden: true});
  const table = h('table', {class: 'data schedules', 'data-testid': 'schedules-table'},
    h('thead', null, h('tr', null,
      h('th', {scope: 'col'}, 'Schedule'), h('th', {scope: 'col'}, 'Cron'),
      h('th', {scope: 'col'}, 'Queue / type'), h('th', {scope: 'col'}, 'Status'),
      h('th', {scope: 'col'}, 'Next fire times'), h('th', {scope: 'col'}, 'Last run'),
      h('th', {scope: 'col', class: 'num'}, 'Runs'),
      admin ? h('th', {scope: 'col'}, 'Actions') : null)),
    tbody);
  const form = admin ? scheduleForm({onSaved: (saved, created) => {
    message(result, `${saved.id} is ${created ? 'created' : 'saved'}: ${saved.cron} (${saved.tz || 'UTC'}), ` +
      `${saved.status}.`);
    load();
  }}) : null;
  const createButton = h('button', {type: 'button', class: 'primary', 'data-testid': 'schedule-create'}, 'New schedule');
  createButton.addEventListener('click', () => form.open(null));
  main.append(h('section', {class: 'view', 'data-testid': 'schedules-view'},
    h('div', {class: 'view-head'}, h('h1', null, 'Schedules'), h('span', {class: 'spacer'}),
      admin ? createButton : null),
    result, form?.panel, h('div', {class: 'table-wrap'}, table)));

  let requestSeq = 0;
  let lastLoad = 0;
  let scrolled = false;

  async function act(schedule, action) {
    try {
      const answer = await api.post(`/schedules/${seg(schedule.id)}/${action}`);
      if (action === 'run') {
        message(result, ['Enqueued job ', h('a', {href: jobHref(answer.queue, answer.id)}, answer.id),
          ` from ${schedule.id} (${answer.state}).`]);
      } else {
        message(result, `${schedule.id} is ${answer.paused ? 'paused' : 'resumed'}.`);
      }
      load();
    } catch (e) {
      message(result, `${schedule.id}: ${errorText(e)}`, 'error');
    }
  }

  function editButton(schedule, detail) {
    const b = h('button', {type: 'button', 'data-testid': `schedule-edit-${schedule.id}`}, 'Edit');
    b.addEventListener('click', () => form.open(detail || schedule));
    return b;
  }

  function row(schedule, detail) {
    const id = schedule.id;
    const button = (action, label, cls) => {
      const b = h('button', {type: 'button', class: cls, 'data-testid': `schedule-${action}-${id}`}, label);
      b.addEventListener('click', () => act(schedule, action));
      return b;
    };
    return h('tr', {'data-testid': `schedule-row-${id}`, class: id === highlight ? 'highlight' : null},
      h('th', {scope: 'row'}, id),
      h('td', null, cadence(schedule)),
      h('td', null, schedule.queue, h('div', {class: 'muted small'}, schedule.type)),
      h('td', {'data-testid': `schedule-status-${id}`},
        badge(schedule.status, schedule.status === 'active' ? 'ok' : schedule.status === 'paused' ? 'paused' : 'muted')),
      h('td', {'data-testid': `schedule-next-${id}`}, fireTimes(schedule, detail)),
      h('td', {'data-testid': `schedule-last-run-${id}`}, lastRun(schedule, detail)),
      h('td', {class: 'num'}, String(schedule.runs ?? 0)),
      admin ? h('td', {class: 'buttons nowrap'},
        schedule.paused ? button('resume', 'Resume', 'primary') : button('pause', 'Pause'),
        button('run', 'Run now'), editButton(schedule, detail)) : null);
  }

  async function load() {
    const seq = ++requestSeq;
    lastLoad = Date.now();
    try {
      const list = (await api.get('/schedules')).schedules || [];
      // The list has neither the next fire times nor the last run's state: one GET per schedule.
      const details = await Promise.all(list.map((sc) =>
        api.get(`/schedules/${seg(sc.id)}`).catch(() => null)));
      if (seq !== requestSeq) return;
      replace(tbody, list.length ? list.map((sc, i) => row(sc, details[i]))
        : h('tr', null, h('td', {colspan: admin ? 8 : 7, class: 'muted empty', 'data-testid': 'no-schedules'},
          'No schedules. Create them here, with --schedule or with POST /api/schedules.')));
      const marked = tbody.querySelector('tr.highlight');
      if (marked && !scrolled) {
        scrolled = true;
        marked.scrollIntoView({block: 'center'});
      }
    } catch (e) {
      if (seq !== requestSeq) return;
      replace(tbody, h('tr', null, h('td', {colspan: 8, class: 'error', 'data-testid': 'view-error'},
        `Cannot load the schedules: ${errorText(e)}`)));
    }
  }

  load();
  const off = on('queues', () => {
    if (Date.now() - lastLoad >= REFRESH_MS) load();
  });
  return () => {
    off();
    requestSeq++;
  };
}
