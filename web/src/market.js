// GET /info polling: one request per second, each with the previous answer's cursor.
import { api } from './api.js';
import { $, fmtYen } from './ui.js';

const POLL_MS = 1000;

export function startPolling({ onInfo, epoch }) {
  let cursor = 0;
  let timer = 0;
  const live = $('#live');

  async function tick() {
    const started = performance.now();
    const myEpoch = epoch();
    try {
      const info = await api.info(cursor);
      if (typeof info.cursor === 'number' && info.cursor >= 0) cursor = info.cursor;
      // A sign-in/out happened while this request was in flight: its traded_orders belong to
      // the previous session, so drop them (GET /orders after the change covers the rest).
      if (myEpoch !== epoch()) info.traded_orders = [];
      onInfo(info);
      live.dataset.state = 'ok';
      live.textContent = 'Live';
    } catch (err) {
      live.dataset.state = 'error';
      live.textContent = 'Reconnecting…';
      live.title = err.message;
    }
    timer = setTimeout(tick, Math.max(0, POLL_MS - (performance.now() - started)));
  }
  tick();
  return () => clearTimeout(timer);
}

/** Best ask / best bid in the header and on the order form's price chips. */
export function renderBook(info) {
  const set = (sel, chip, price) => {
    $(sel).textContent = fmtYen(price);
    const c = $(chip);
    c.dataset.price = price ?? '';
    c.disabled = price == null;
    $('.chip-price', c).textContent = fmtYen(price);
  };
  set('#best-ask', '#fill-ask', info.lowest_sell_price);
  set('#best-bid', '#fill-bid', info.highest_buy_price);
}

/** "Share to SNS": a plain link to an intent URL; the exchange makes no call of its own. */
export function renderShare(enabled, user) {
  const a = $('#share');
  const show = Boolean(enabled && user);
  a.hidden = !show;
  if (show) {
    const text = 'ISUCOIN で椅子を取引しています！ Trading chairs on ISUCOIN';
    const url = `${location.origin}/`;
    a.href = `https://twitter.com/intent/tweet?text=${encodeURIComponent(text)}&url=${encodeURIComponent(url)}&hashtags=ISUCOIN`;
  }
}
