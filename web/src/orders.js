// The order form and "my orders" (open and traded; cancelled ones are left out, as GET /orders does).
import { api, ApiError } from './api.js';
import { $, h, fmtYen, fmtNum, chairs, setMessage, busy, toast } from './ui.js';
import { formatApiTime, parseTimeMs } from './time.js';
import { sessionLost } from './session.js';

const orders = new Map(); // id → order, as the API shapes it

const isOpen = (o) => !o.closed_at && o.trade_id == null && !o.trade;

function handleError(err, msgEl) {
  if (err instanceof ApiError && err.status === 401) sessionLost();
  if (msgEl) setMessage(msgEl, err.message);
  else toast(err.message, 'error');
}

function render() {
  const body = $('#orders-body');
  const list = [...orders.values()].sort((a, b) =>
    (parseTimeMs(b.created_at) - parseTimeMs(a.created_at)) || (b.id - a.id));
  body.replaceChildren(...list.map(row));
  $('#orders-empty').hidden = list.length > 0;
  $('#orders-count').textContent = `${list.filter(isOpen).length} open · ${list.filter((o) => !isOpen(o)).length} traded`;
}

function row(o) {
  const open = isOpen(o);
  const side = o.type === 'buy' ? 'Buy' : 'Sell';
  const status = open
    ? h('span', { class: 'badge open' }, 'Open')
    : o.trade
      ? h('span', { class: 'badge traded', title: `Trade #${o.trade.id} at ${formatApiTime(o.trade.created_at)}` },
        `Traded @ ${fmtYen(o.trade.price)}`)
      : h('span', { class: 'badge closed' }, 'Closed');
  const action = open
    ? h('button', { type: 'button', class: 'btn small ghost', 'aria-label': `Cancel ${o.type} order ${o.id}`, onclick: (e) => cancel(o, e.currentTarget) }, 'Cancel')
    : '';
  return h('tr', { dataset: { id: o.id, type: o.type, status: open ? 'open' : 'traded' } },
    h('td', { class: 'mono' }, `#${o.id}`),
    h('td', {}, h('span', { class: `side ${o.type}` }, side)),
    h('td', { class: 'num' }, fmtNum(o.amount)),
    h('td', { class: 'num' }, fmtYen(o.price)),
    h('td', {}, status),
    h('td', { class: 'time' }, formatApiTime(o.created_at)),
    h('td', { class: 'action' }, action));
}

async function cancel(o, button) {
  button.disabled = true;
  try {
    await api.cancelOrder(o.id);
    orders.delete(o.id);
    toast(`Cancelled ${o.type} order #${o.id}.`, 'ok');
  } catch (err) {
    handleError(err);
    button.disabled = false;
  }
  await reloadOrders();
  $('#order-form').elements.amount.focus();
}

/** Replace the list with a fresh GET /orders (or the given answer). */
export async function reloadOrders(list) {
  try {
    const fresh = list || await api.orders();
    orders.clear();
    for (const o of fresh || []) orders.set(o.id, o);
    render();
  } catch (err) {
    handleError(err);
  }
}

/** Merge /info's traded_orders; announce trades of orders we knew as open. */
export function mergeTraded(traded) {
  if (!traded || !traded.length) return;
  for (const o of traded) {
    const before = orders.get(o.id);
    if (before && isOpen(before) && o.trade) {
      toast(`Your ${o.type} order #${o.id} traded: ${chairs(o.amount)} @ ${fmtYen(o.trade.price)}`, 'ok');
    }
    orders.set(o.id, o);
  }
  render();
}

export function clearOrders() {
  orders.clear();
  render();
}

function updateSubmitLabel(form) {
  const type = form.elements.type.value;
  const btn = $('#order-submit');
  btn.textContent = type === 'buy' ? 'Place buy order' : 'Place sell order';
  btn.className = `btn wide ${type}`;
}

export function initOrders() {
  const form = $('#order-form');
  const msg = $('.msg', form);
  form.addEventListener('change', (e) => { if (e.target.name === 'type') updateSubmitLabel(form); });
  updateSubmitLabel(form);

  // The best bid/ask chips fill the price field.
  for (const id of ['#fill-ask', '#fill-bid']) {
    $(id).addEventListener('click', (e) => {
      const p = e.currentTarget.dataset.price;
      if (p) { form.elements.price.value = p; form.elements.price.focus(); }
    });
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    setMessage(msg, '');
    const f = new FormData(form);
    const type = f.get('type');
    const amount = String(f.get('amount')).trim();
    const price = String(f.get('price')).trim();
    await busy(form, async () => {
      try {
        const res = await api.placeOrder(type, amount, price);
        setMessage(msg, `${type === 'buy' ? 'Buy' : 'Sell'} order #${res.id} placed: ${chairs(amount)} @ ${fmtYen(price)}.`, 'ok');
      } catch (err) {
        handleError(err, msg);
        return;
      }
      await reloadOrders();
    });
  });
}
