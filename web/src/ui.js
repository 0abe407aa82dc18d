// Small DOM helpers shared by the modules.

export const $ = (sel, root = document) => root.querySelector(sel);

/** Create an element: h('td', {class: 'x'}, 'text', childNode, ...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const yen = new Intl.NumberFormat('ja-JP');
export const fmtYen = (n) => (n == null || Number.isNaN(Number(n)) ? '—' : `¥${yen.format(n)}`);
export const fmtNum = (n) => (n == null ? '—' : yen.format(n));
export const chairs = (n) => `${yen.format(n)} chair${Number(n) === 1 ? '' : 's'}`;

/** Show a message in a form's status line (role=alert for errors, role=status otherwise). */
export function setMessage(el, text, kind = 'error') {
  if (!el) return;
  el.textContent = text || '';
  el.dataset.kind = text ? kind : '';
  el.hidden = !text;
}

/** Disable a form's controls while an async action runs. */
export async function busy(form, fn) {
  const controls = [...form.querySelectorAll('button, input, select')];
  controls.forEach((c) => { c.dataset.wasDisabled = c.disabled ? '1' : ''; c.disabled = true; });
  form.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    controls.forEach((c) => { c.disabled = c.dataset.wasDisabled === '1'; delete c.dataset.wasDisabled; });
    form.removeAttribute('aria-busy');
  }
}

let toastTimer = 0;
/** Transient notification, announced politely to screen readers. */
export function toast(text, kind = 'info') {
  const el = $('#toast');
  if (!el) return;
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 5000);
}
