// Sign up, sign in, sign out. The server keeps the session in the isucoin_session cookie;
// we only remember the display name locally so a reload can greet the user.
import { api, ApiError } from './api.js';
import { $, setMessage, busy, toast } from './ui.js';

const KEY = 'isucoin.user';
let user = null;
const listeners = [];

export const currentUser = () => user;
export const onSessionChange = (fn) => listeners.push(fn);

// `orders` (optional): a GET /orders answer already in hand, so listeners need not fetch it again.
function setUser(u, orders) {
  user = u;
  if (u) localStorage.setItem(KEY, JSON.stringify(u));
  else localStorage.removeItem(KEY);
  listeners.forEach((fn) => fn(u, orders));
}

/** Called when any API call answers 401: the cookie expired or was cleared elsewhere. */
export function sessionLost() {
  if (user) {
    setUser(null);
    toast('Your session has ended. Please sign in again.', 'error');
  }
}

function showAuthMode(mode) {
  const signin = mode === 'signin';
  $('#signin-form').hidden = !signin;
  $('#signup-form').hidden = signin;
  $('#mode-signin').setAttribute('aria-pressed', String(signin));
  $('#mode-signup').setAttribute('aria-pressed', String(!signin));
}

export function initSession() {
  $('#mode-signin').addEventListener('click', () => showAuthMode('signin'));
  $('#mode-signup').addEventListener('click', () => showAuthMode('signup'));

  const signup = $('#signup-form');
  signup.addEventListener('submit', async (e) => {
    e.preventDefault();
    const msg = $('.msg', signup);
    setMessage(msg, '');
    const f = new FormData(signup);
    await busy(signup, async () => {
      try {
        await api.signup(f.get('name').trim(), f.get('bank_id').trim(), f.get('password'));
      } catch (err) {
        setMessage(msg, err.message);
        return;
      }
      // Registered: go to the sign-in form with the bank id filled in.
      signup.reset();
      showAuthMode('signin');
      const signin = $('#signin-form');
      signin.elements.bank_id.value = f.get('bank_id').trim();
      setMessage($('.msg', signin), 'Account created. Sign in with your password.', 'ok');
      signin.elements.password.focus();
    });
  });

  const signin = $('#signin-form');
  signin.addEventListener('submit', async (e) => {
    e.preventDefault();
    const msg = $('.msg', signin);
    setMessage(msg, '');
    const f = new FormData(signin);
    await busy(signin, async () => {
      try {
        const res = await api.signin(f.get('bank_id').trim(), f.get('password'));
        signin.reset();
        setUser({ id: res.id, name: res.name });
        toast(`Welcome, ${res.name}!`, 'ok');
      } catch (err) {
        setMessage(msg, err.message);
      }
    });
  });

  $('#signout').addEventListener('click', async () => {
    try {
      await api.signout();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) {
        toast(err.message, 'error');
        return;
      }
    }
    setUser(null);
    toast('Signed out.');
    $('#signin-form').elements.bank_id.focus();
  });
}

/** On page load: are we still signed in? GET /orders answers 401 when not. */
export async function restoreSession() {
  let saved = null;
  try { saved = JSON.parse(localStorage.getItem(KEY) || 'null'); } catch { saved = null; }
  try {
    const orders = await api.orders();
    setUser(saved || { id: null, name: '' }, orders);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) toast(err.message, 'error');
    setUser(null);
  }
}
