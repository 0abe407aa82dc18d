// Time helpers. The API speaks RFC 3339 with an offset (e.g. 2018-10-16T09:00:00.123456+09:00);
// the chart wants UTC seconds. We parse by hand instead of relying on Date.parse, whose handling
// of more than three fractional digits is implementation-defined.

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:?\d{2})$/;

/** Milliseconds since the epoch (UTC) for an RFC 3339 string, or NaN. */
export function parseTimeMs(s) {
  const m = typeof s === 'string' ? RFC3339.exec(s) : null;
  if (!m) return NaN;
  const [, y, mo, d, h, mi, sec, frac = '', tz] = m;
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +sec) + Math.floor(Number(`0.${frac || '0'}`) * 1000);
  if (tz !== 'Z' && tz !== 'z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    const offMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
    ms -= offMin * 60000;
  }
  return ms;
}

/** Whole UTC seconds (the start of the second) — lightweight-charts' UTCTimestamp. */
export function toUtcSeconds(s) {
  const ms = parseTimeMs(s);
  return Number.isNaN(ms) ? NaN : Math.floor(ms / 1000);
}

const pad = (n) => String(n).padStart(2, '0');

/** "YYYY-MM-DD HH:MM:SS" in the browser's local time zone. */
export function formatLocal(ms, { date = true, seconds = true } = {}) {
  const d = new Date(ms);
  const t = `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
  return date ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${t}` : t;
}

/** Display an API time string in local time, falling back to the raw string. */
export function formatApiTime(s) {
  const ms = parseTimeMs(s);
  return Number.isNaN(ms) ? String(s ?? '') : formatLocal(ms);
}
