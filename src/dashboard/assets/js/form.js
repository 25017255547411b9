// Forms that save through the API. The API is the one home of the rules: the page sends what the
// user typed and shows the API's error next to the form, with the field it names marked. A form
// is never reset by an error, so nothing typed is lost.
import {h, message, errorText} from './dom.js';

// A labelled input. The input's data-field is the API field it feeds (used to mark errors).
export function field(label, input) {
  return h('label', {class: 'field'}, h('span', null, label), input);
}

// A text input for a number: inputmode gives phones a digit keyboard, while a value that is no
// number still reaches the API, which names the field and the rule (a number input would turn
// it into an empty value, which means "no limit").
export function numberInput(apiField, testid, placeholder) {
  return h('input', {type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false',
    'data-field': apiField, 'data-testid': testid, placeholder: placeholder || null});
}

// The input's value as JSON: null when empty, a number when it reads as one, else the text.
export function readNumber(input) {
  const raw = input.value.trim();
  if (raw === '') return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw;
}

export function showValue(input, value) {
  input.value = value === null || value === undefined ? '' : String(value);
}

// Clears what an earlier error marked (called before each save).
export function clearErrors(form, out) {
  for (const el of form.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid');
  message(out, '');
}

// Shows the API's error in `out`, marks the input of every field it names (the nearest one:
// "rate.max" falls back to "rate" when the form has no such input) and focuses the first.
export function showError(form, out, error) {
  message(out, errorText(error), 'error');
  const fields = error && Array.isArray(error.errors) && error.errors.length
    ? error.errors.map((e) => e.field) : [error && error.field];
  let focused = false;
  for (let name of fields) {
    while (name) {
      const input = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        if (!focused) input.focus();
        focused = true;
        break;
      }
      name = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : '';
    }
  }
}
