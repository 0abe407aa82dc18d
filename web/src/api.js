// Thin fetch wrapper for the ISUCOIN API (see shared/SPEC.md).
// Requests are application/x-www-form-urlencoded; every non-2xx answer carries {"error": "..."}.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

export async function request(method, path, fields) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (fields) {
    init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
    init.body = new URLSearchParams(fields).toString();
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'ネットワークエラー: サーバーに接続できません (network error)');
  }
  let body = null;
  const text = await res.text();
  if (text) {
    try { body = JSON.parse(text); } catch { body = null; }
  }
  if (!res.ok) {
    const msg = body && typeof body.error === 'string' && body.error
      ? body.error
      : `HTTP ${res.status} ${res.statusText || ''}`.trim();
    throw new ApiError(res.status, msg);
  }
  return body;
}

export const api = {
  signup: (name, bankId, password) => request('POST', '/signup', { name, bank_id: bankId, password }),
  signin: (bankId, password) => request('POST', '/signin', { bank_id: bankId, password }),
  signout: () => request('POST', '/signout', {}),
  placeOrder: (type, amount, price) => request('POST', '/orders', { type, amount, price }),
  cancelOrder: (id) => request('DELETE', `/order/${encodeURIComponent(id)}`),
  orders: () => request('GET', '/orders'),
  info: (cursor) => request('GET', `/info?cursor=${encodeURIComponent(cursor || 0)}`),
};
