// Candlestick chart (lightweight-charts) with by-second / by-minute / by-hour tabs.
import { createChart, CandlestickSeries, TickMarkType, ColorType } from 'lightweight-charts';
import { toUtcSeconds, formatLocal } from './time.js';
import { $, fmtYen } from './ui.js';

// The /info keys, in tab order.
export const INTERVALS = [{ key: 'chart_by_sec' }, { key: 'chart_by_min' }, { key: 'chart_by_hour' }];

/** API candles → lightweight-charts bars: UTC seconds, strictly ascending, no bad rows. */
export function toBars(candles) {
  const bars = [];
  for (const c of candles || []) {
    const time = toUtcSeconds(c.time);
    if (Number.isNaN(time)) continue;
    const bar = { time, open: +c.open, high: +c.high, low: +c.low, close: +c.close };
    if (bars.length && bars[bars.length - 1].time >= time) {
      if (bars[bars.length - 1].time === time) bars[bars.length - 1] = bar;
      continue; // out of order: drop rather than let the library throw
    }
    bars.push(bar);
  }
  return bars;
}

const pad = (n) => String(n).padStart(2, '0');

function tickMark(time, type) {
  const d = new Date(time * 1000); // shown in the browser's own time zone
  switch (type) {
    case TickMarkType.Year: return String(d.getFullYear());
    case TickMarkType.Month: return `${d.getFullYear()}/${pad(d.getMonth() + 1)}`;
    case TickMarkType.DayOfMonth: return `${pad(d.getMonth() + 1)}/${pad(d.getDate())}`;
    case TickMarkType.TimeWithSeconds: return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    default: return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
}

export function createCandleChart(root) {
  const container = $('.chart-canvas', root);
  const tabs = [...root.querySelectorAll('[role="tab"]')];
  const data = Object.fromEntries(INTERVALS.map((i) => [i.key, []]));
  const signatures = {};
  let active = INTERVALS[0].key;

  const chart = createChart(container, {
    autoSize: true,
    layout: {
      background: { type: ColorType.Solid, color: 'transparent' },
      textColor: '#9aa4b2',
      fontFamily: 'system-ui, -apple-system, "Segoe UI", "Hiragino Sans", sans-serif',
      attributionLogo: true,
    },
    grid: { vertLines: { color: 'rgba(255,255,255,0.05)' }, horzLines: { color: 'rgba(255,255,255,0.05)' } },
    rightPriceScale: { borderColor: 'rgba(255,255,255,0.12)' },
    timeScale: {
      borderColor: 'rgba(255,255,255,0.12)',
      timeVisible: true,
      secondsVisible: true,
      tickMarkFormatter: tickMark,
    },
    localization: {
      locale: 'ja-JP',
      timeFormatter: (t) => formatLocal(t * 1000, { seconds: active === 'chart_by_sec' }),
      priceFormatter: (p) => fmtYen(Math.round(p)),
    },
    crosshair: { mode: 0 },
  });
  const series = chart.addSeries(CandlestickSeries, {
    upColor: '#22c55e', downColor: '#ef4444', borderVisible: false,
    wickUpColor: '#22c55e', wickDownColor: '#ef4444',
    priceFormat: { type: 'price', precision: 0, minMove: 1 },
  });

  function render(fit) {
    const bars = data[active];
    series.setData(bars);
    chart.applyOptions({ timeScale: { secondsVisible: active === 'chart_by_sec' } });
    if (fit) chart.timeScale().fitContent();
    container.dataset.candles = String(bars.length);
    container.dataset.interval = active;
    const last = bars[bars.length - 1];
    $('#last-price').textContent = last ? fmtYen(last.close) : '—';
    root.querySelector('.chart-empty').hidden = bars.length > 0;
  }

  function select(key, focus = false) {
    active = key;
    for (const t of tabs) {
      const on = t.dataset.key === key;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      if (on && focus) t.focus();
    }
    render(true);
  }

  tabs.forEach((t, i) => {
    t.addEventListener('click', () => select(t.dataset.key));
    t.addEventListener('keydown', (e) => {
      const d = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!d) return;
      e.preventDefault();
      select(tabs[(i + d + tabs.length) % tabs.length].dataset.key, true);
    });
  });

  let first = true;
  return {
    /** Feed one /info answer; only redraws the series whose data changed. */
    update(info) {
      let changed = false;
      for (const { key } of INTERVALS) {
        const bars = toBars(info[key]);
        const last = bars[bars.length - 1];
        const sig = `${bars.length}:${bars[0]?.time}:${last ? Object.values(last).join(',') : ''}`;
        if (sig !== signatures[key]) {
          signatures[key] = sig;
          data[key] = bars;
          if (key === active) changed = true;
        }
      }
      if (changed || first) render(first);
      first = false;
    },
    select,
  };
}
