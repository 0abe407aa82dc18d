// Unit tests of web/src/time.js (RFC 3339 with offsets → UTC seconds for the chart) and of the
// mock server's time format, which must round-trip through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toUtcSeconds, parseTimeMs } from '../../web/src/time.js';
import { fmtTime } from './mock_server.mjs';

test('RFC 3339 with offsets converts to UTC seconds', () => {
  const utc = (...a) => Date.UTC(...a) / 1000;
  assert.equal(toUtcSeconds('2018-10-16T09:00:00.123456+09:00'), utc(2018, 9, 16, 0, 0, 0));
  assert.equal(toUtcSeconds('2018-10-16T09:00:00+09:00'), utc(2018, 9, 16, 0, 0, 0));
  assert.equal(toUtcSeconds('2018-10-16T00:00:59.999999Z'), utc(2018, 9, 16, 0, 0, 59));
  assert.equal(toUtcSeconds('2018-10-15T19:30:00-05:30'), utc(2018, 9, 16, 1, 0, 0));
  assert.equal(toUtcSeconds('2018-01-01T08:59:59.5+09:00'), utc(2017, 11, 31, 23, 59, 59));
  assert.equal(parseTimeMs('2018-10-16T09:00:00.123456+09:00'), Date.UTC(2018, 9, 16, 0, 0, 0, 123));
});

test('malformed times are NaN, not a wrong date', () => {
  for (const s of ['', 'garbage', '2018-10-16 09:00', '2018-10-16T09:00:00', null, 12345]) {
    assert.ok(Number.isNaN(toUtcSeconds(s)), String(s));
  }
});

test('the mock server formats times the way the parser reads them', () => {
  const ms = Date.UTC(2024, 1, 29, 23, 30, 15, 250);
  assert.equal(fmtTime(ms), '2024-03-01T08:30:15.250000+09:00');
  assert.equal(parseTimeMs(fmtTime(ms)), ms);
});
