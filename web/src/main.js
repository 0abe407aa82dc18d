// ISUCOIN single-page app: wires the modules together.
import './styles.css';
import { $ } from './ui.js';
import { createCandleChart } from './chart.js';
import { initSession, restoreSession, onSessionChange, currentUser } from './session.js';
import { initOrders, reloadOrders, mergeTraded, clearOrders } from './orders.js';
import { startPolling, renderBook, renderShare } from './market.js';

let epoch = 0; // bumps on every sign-in / sign-out
let lastShare = false;

function showSignedIn(user) {
  const signedIn = Boolean(user);
  document.body.dataset.session = signedIn ? 'in' : 'out';
  $('#auth').hidden = signedIn;
  $('#trade').hidden = !signedIn;
  $('#orders-section').hidden = !signedIn;
  $('#account').hidden = !signedIn;
  $('#user-name').textContent = signedIn ? (user.name || 'Signed in') : '';
  renderShare(lastShare, user);
}

async function main() {
  const chart = createCandleChart($('#chart-section'));
  initSession();
  initOrders();

  onSessionChange((user, orders) => {
    epoch += 1;
    showSignedIn(user);
    if (user) reloadOrders(orders);
    else clearOrders();
  });

  await restoreSession();

  startPolling({
    epoch: () => epoch,
    onInfo(info) {
      chart.update(info);
      renderBook(info);
      lastShare = Boolean(info.enable_share);
      renderShare(lastShare, currentUser());
      if (currentUser()) mergeTraded(info.traded_orders);
    },
  });
  document.body.dataset.ready = 'true';
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
else main();
