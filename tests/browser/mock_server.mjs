// A small in-memory stand-in for the ISUCOIN exchange (shared/SPEC.md), for developing and testing
// the web app before the real server is ready. Not a reference implementation of the matcher.
//
//   node tests/browser/mock_server.mjs [--port 8000] [--web-root web/dist] [--share-ratio 10] [--no-bot]
//
// Bank simulation: every bank_id exists except ones containing "nobank"; ones containing "poor"
// have no money (buys fail with 残高). A market bot trades one chair a second unless --no-bot.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TZ_OFFSET_MS = 9 * 3600 * 1000; // Asia/Tokyo

/** RFC 3339 with +09:00 and microseconds, as the real exchange answers. */
export function fmtTime(ms) {
  return new Date(ms + TZ_OFFSET_MS).toISOString().replace('Z', '000+09:00');
}

const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml', '.json': 'application/json' };

function seed(now) {
  const s = { users: [], orders: [], trades: [], sessions: new Map(), failures: new Map(), botPrice: 5020 };
  const bot = { id: 1, name: 'market-maker', bank_id: 'isucon-mm', password: 'mm' };
  const bot2 = { id: 2, name: 'arbitrageur', bank_id: 'isucon-arb', password: 'arb' };
  s.users.push(bot, bot2);
  // History: one trade a minute for 48 h, then one every 2 s for the last 10 minutes.
  let price = 4700;
  const times = [];
  for (let t = now - 48 * 3600e3; t < now - 600e3; t += 60e3) times.push(t);
  for (let t = now - 600e3; t < now - 1000; t += 1000) times.push(t, t + 300, t + 700);
  let rnd = 42;
  const rand = () => ((rnd = (rnd * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (const t of times) {
    price = Math.max(4600, Math.min(5090, price + Math.round((rand() - 0.495) * 24)));
    const amount = 1 + Math.floor(rand() * 3);
    addTrade(s, t, amount, price, bot, bot2);
  }
  s.botPrice = Math.max(4960, Math.min(5090, price));
  // An order book around the price.
  for (let i = 0; i < 5; i++) {
    addOrder(s, now - 3600e3 + i, bot, 'sell', 2 + i, 5100 + i * 25);
    addOrder(s, now - 3600e3 + i, bot2, 'buy', 2 + i, 4950 - i * 25);
  }
  return s;
}

function addOrder(s, ms, user, type, amount, price) {
  const o = { id: s.orders.length + 1, type, user_id: user.id, amount, price, created_ms: ms, closed_ms: null, trade_id: null };
  s.orders.push(o);
  return o;
}

function addTrade(s, ms, amount, price, buyer, seller) {
  const tr = { id: s.trades.length + 1, amount, price, created_ms: ms };
  s.trades.push(tr);
  if (buyer) {
    for (const [u, type] of [[buyer, 'buy'], [seller, 'sell']]) {
      const o = addOrder(s, ms - 500, u, type, amount, price);
      o.closed_ms = ms; o.trade_id = tr.id;
    }
  }
  return tr;
}

const isOpen = (o) => o.closed_ms == null;

/** All-or-nothing matching of `o` against the book (simplified: greedy by priority). */
function match(s, o, now) {
  const other = o.type === 'buy' ? 'sell' : 'buy';
  const book = s.orders.filter((c) => isOpen(c) && c.type === other && c.id !== o.id &&
    (o.type === 'buy' ? c.price <= o.price : c.price >= o.price));
  book.sort((a, b) => (o.type === 'buy' ? a.price - b.price : b.price - a.price) || a.id - b.id);
  let rest = o.amount;
  const take = [];
  for (const c of book) {
    if (c.amount <= rest) { take.push(c); rest -= c.amount; }
    if (rest === 0) break;
  }
  if (rest !== 0) return;
  const price = o.type === 'buy' ? Math.max(...take.map((c) => c.price)) : Math.min(...take.map((c) => c.price));
  const tr = addTrade(s, now, o.amount, price);
  for (const c of [o, ...take]) { c.closed_ms = now; c.trade_id = tr.id; }
}

function orderJson(s, o) {
  const u = s.users.find((x) => x.id === o.user_id);
  const j = { id: o.id, type: o.type, user_id: o.user_id, amount: o.amount, price: o.price,
    closed_at: o.closed_ms == null ? null : fmtTime(o.closed_ms) };
  if (o.trade_id != null) j.trade_id = o.trade_id;
  j.created_at = fmtTime(o.created_ms);
  j.user = { id: u.id, name: u.name };
  if (o.trade_id != null) {
    const t = s.trades[o.trade_id - 1];
    j.trade = { id: t.id, amount: t.amount, price: t.price, created_at: fmtTime(t.created_ms) };
  }
  return j;
}

function candles(s, sizeMs, count) {
  const last = s.trades[s.trades.length - 1];
  if (!last) return [];
  const end = Math.floor((last.created_ms + TZ_OFFSET_MS) / sizeMs);
  const from = end - count + 1;
  const buckets = new Map();
  for (const t of s.trades) { // trades are in id order, which is time order here
    const b = Math.floor((t.created_ms + TZ_OFFSET_MS) / sizeMs);
    if (b < from) continue;
    const c = buckets.get(b);
    if (!c) buckets.set(b, { time: fmtTime(b * sizeMs - TZ_OFFSET_MS), open: t.price, close: t.price, high: t.price, low: t.price });
    else { c.close = t.price; c.high = Math.max(c.high, t.price); c.low = Math.min(c.low, t.price); }
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
}

export function startMockServer({ port = 0, host = '127.0.0.1', webRoot = path.resolve(HERE, '../../web/dist'), shareRatio = 10, bot = true, log = false } = {}) {
  let s = seed(Date.now());

  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
    res.end(JSON.stringify(body));
  };
  const err = (res, status, message) => send(res, status, { error: message });
  const userOf = (req) => {
    const m = /(?:^|;\s*)isucoin_session=([^;]+)/.exec(req.headers.cookie || '');
    return m ? s.users.find((u) => u.id === s.sessions.get(m[1])) : undefined;
  };
  const posInt = (v) => (/^[0-9]{1,15}$/.test(v || '') && Number(v) > 0 ? Number(v) : null);

  function serveStatic(req, res, p) {
    const rel = p === '/' ? 'index.html' : decodeURIComponent(p).replace(/^\/+/, '');
    const file = path.resolve(webRoot, rel);
    if (!file.startsWith(path.resolve(webRoot) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      return err(res, 404, 'not found');
    }
    res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  }

  function route(req, res, body) {
    const url = new URL(req.url, 'http://x');
    const f = new URLSearchParams(body);
    const p = url.pathname;
    const now = Date.now();
    if (req.method === 'POST' && p === '/initialize') { s = seed(now); return send(res, 200, {}); }
    if (req.method === 'POST' && p === '/signup') {
      const name = f.get('name'), bankId = f.get('bank_id'), pw = f.get('password');
      if (!name || !bankId || !pw) return err(res, 400, 'all parameters are required');
      if (bankId.includes('nobank')) return err(res, 404, 'bank user not found');
      if (s.users.some((u) => u.bank_id === bankId)) return err(res, 409, 'bank_id already exists');
      s.users.push({ id: s.users.length + 1, name, bank_id: bankId, password: pw });
      return send(res, 200, {});
    }
    if (req.method === 'POST' && p === '/signin') {
      const bankId = f.get('bank_id'), pw = f.get('password');
      if (!bankId || !pw) return err(res, 400, 'all parameters are required');
      if ((s.failures.get(bankId) || 0) >= 5) return err(res, 403, 'too many failures');
      const u = s.users.find((x) => x.bank_id === bankId);
      if (!u || u.password !== pw) {
        s.failures.set(bankId, (s.failures.get(bankId) || 0) + 1);
        return err(res, 404, 'bank_id or password is not match');
      }
      s.failures.delete(bankId);
      const token = crypto.randomBytes(16).toString('hex');
      s.sessions.set(token, u.id);
      return send(res, 200, { id: u.id, name: u.name }, { 'Set-Cookie': `isucoin_session=${token}; Path=/; HttpOnly; SameSite=Lax` });
    }
    if (req.method === 'POST' && p === '/signout') {
      const m = /(?:^|;\s*)isucoin_session=([^;]+)/.exec(req.headers.cookie || '');
      if (m) s.sessions.delete(m[1]);
      return send(res, 200, {}, { 'Set-Cookie': 'isucoin_session=; Path=/; Max-Age=0' });
    }
    if (req.method === 'GET' && p === '/info') {
      const cursor = Number(url.searchParams.get('cursor') || 0) || 0;
      const u = userOf(req);
      const last = s.trades[s.trades.length - 1];
      const info = { cursor: last ? last.id : 0 };
      info.traded_orders = u
        ? s.orders.filter((o) => o.user_id === u.id && o.trade_id != null && o.trade_id > cursor).map((o) => orderJson(s, o))
        : [];
      info.chart_by_sec = candles(s, 1000, 300);
      info.chart_by_min = candles(s, 60e3, 300);
      info.chart_by_hour = candles(s, 3600e3, 48);
      const sells = s.orders.filter((o) => isOpen(o) && o.type === 'sell').map((o) => o.price);
      const buys = s.orders.filter((o) => isOpen(o) && o.type === 'buy').map((o) => o.price);
      if (sells.length) info.lowest_sell_price = Math.min(...sells);
      if (buys.length) info.highest_buy_price = Math.max(...buys);
      info.enable_share = Boolean(u && u.id % 10 < shareRatio);
      return send(res, 200, info);
    }
    if ((p === '/orders' && (req.method === 'GET' || req.method === 'POST')) || (req.method === 'DELETE' && p.startsWith('/order/'))) {
      const u = userOf(req);
      if (!u) return err(res, 401, 'signin required');
      if (req.method === 'GET') {
        return send(res, 200, s.orders.filter((o) => o.user_id === u.id && (isOpen(o) || o.trade_id != null))
          .sort((a, b) => a.created_ms - b.created_ms || a.id - b.id).map((o) => orderJson(s, o)));
      }
      if (req.method === 'POST') {
        const type = f.get('type'), amount = posInt(f.get('amount')), price = posInt(f.get('price'));
        if (type !== 'buy' && type !== 'sell') return err(res, 400, 'type must be buy or sell');
        if (!amount) return err(res, 400, 'amount must be a positive integer');
        if (!price) return err(res, 400, 'price must be a positive integer');
        if (type === 'buy' && u.bank_id.includes('poor')) return err(res, 400, '銀行の残高が足りません');
        const o = addOrder(s, now, u, type, amount, price);
        match(s, o, now);
        return send(res, 200, { id: o.id });
      }
      const id = Number(p.slice('/order/'.length));
      const o = s.orders.find((x) => x.id === id);
      if (!o || o.user_id !== u.id) return err(res, 404, 'order not found');
      if (!isOpen(o)) return err(res, 404, 'order is already closed');
      o.closed_ms = now;
      return send(res, 200, { id: o.id });
    }
    if (req.method === 'GET' || req.method === 'HEAD') return serveStatic(req, res, p);
    return err(res, 404, 'not found');
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        route(req, res, Buffer.concat(chunks).toString());
      } catch (e) {
        err(res, 500, 'internal server error');
        console.error(e);
      }
      if (log) console.error(`${req.method} ${req.url} ${res.statusCode}`);
    });
  });

  // The market bot: a few trades a second near the last price, inside the spread.
  const botTimer = bot ? setInterval(() => {
    for (let i = 0; i < 3; i++) {
      s.botPrice = Math.max(4960, Math.min(5090, s.botPrice + Math.round((Math.random() - 0.5) * 16)));
      addTrade(s, Date.now() + i, 1 + Math.floor(Math.random() * 3), s.botPrice, s.users[0], s.users[1]);
    }
  }, 1000) : null;
  botTimer?.unref();

  return new Promise((resolve) => {
    server.listen(port, host, () => {
      const { port: p } = server.address();
      resolve({
        url: `http://${host}:${p}`,
        close: () => new Promise((r) => { clearInterval(botTimer); server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
  const { url } = await startMockServer({
    port: Number(arg('--port', process.env.PORT || 8000)),
    webRoot: path.resolve(arg('--web-root', path.resolve(HERE, '../../web/dist'))),
    shareRatio: Number(arg('--share-ratio', 10)),
    bot: !process.argv.includes('--no-bot'),
    log: process.argv.includes('--log'),
  });
  console.log(`mock ISUCOIN listening on ${url}`);
}
