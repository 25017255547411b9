// The in-page confirmation for destructive actions: one <dialog>, reused.
import {h, replace} from './dom.js';

let dialog = null;
let parts = null;

function build() {
  parts = {
    title: h('h2', {class: 'dialog-title', 'data-testid': 'confirm-title'}),
    text: h('p', {class: 'dialog-text', 'data-testid': 'confirm-text'}),
    ok: h('button', {type: 'button', class: 'danger', 'data-testid': 'confirm-ok', value: 'ok'}, 'OK'),
    cancel: h('button', {type: 'button', 'data-testid': 'confirm-cancel', value: 'cancel'}, 'Cancel'),
  };
  dialog = h('dialog', {class: 'confirm', 'data-testid': 'confirm-dialog', 'aria-labelledby': 'confirm-title'},
    parts.title, parts.text, h('div', {class: 'dialog-buttons'}, parts.cancel, parts.ok));
  parts.title.id = 'confirm-title';
  parts.ok.addEventListener('click', () => dialog.close('ok'));
  parts.cancel.addEventListener('click', () => dialog.close('cancel'));
  document.body.append(dialog);
}

// Resolves true when the user confirms. title, text: plain text; ok: the button's label.
export function confirmAction({title, text, ok = 'OK'}) {
  if (!dialog) build();
  if (dialog.open) dialog.close('cancel');
  replace(parts.title, title);
  replace(parts.text, text || '');
  replace(parts.ok, ok);
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), {once: true});
    dialog.showModal();
    parts.cancel.focus();
  });
}
