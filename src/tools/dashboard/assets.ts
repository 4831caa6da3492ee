/**
 * The dashboard's stylesheet and script, served from its own origin (the Content-Security-Policy
 * allows nothing else). Colours meet WCAG AA contrast on white; the script is plain JavaScript.
 */
const STYLE = `body{font-family:system-ui,sans-serif;color:#1a1a1a;background:#fff;margin:0;line-height:1.45}
header{background:#0d47a1;padding:.5rem 1rem}header a{color:#fff;font-weight:bold}
main{max-width:72rem;margin:1rem auto;padding:0 1rem}main:focus{outline:none}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #bbb}
a{color:#0d47a1}a:focus-visible{outline:3px solid #ff8f00;outline-offset:2px}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.9rem}caption{text-align:left;font-weight:bold;padding:.25rem 0}
th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}thead th{background:#eee}
.num{text-align:right;font-variant-numeric:tabular-nums}code{font-size:.85rem;word-break:break-all}
.phase{font-weight:bold}.good{color:#1b5e20}.bad{color:#b71c1c}.warn{color:#7a4f01}.dim{color:#555}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:bold}dd{margin:0}
ol.timeline{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}
ol.timeline li{border:2px solid #757575;border-radius:.4rem;padding:.4rem .6rem}
ol.timeline li.done{border-color:#1b5e20}ol.timeline li.current{border-color:#0d47a1;background:#e3f2fd;font-weight:bold}
ol.timeline .label{display:block;font-size:.8rem;color:#333}ol.timeline .state{color:#333}
figure{margin:1rem 0}svg{max-width:100%;height:auto}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.25rem .5rem;z-index:1}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media print{header,.skip{display:none}main{max-width:none}}
`;

/**
 * Live updates: the server sends each changed policy's summary (GET /api/v1/policies' items) as a
 * server-sent event; the script fetches the page again and swaps the parts that changed
 * ([data-live][id]), keeping the keyboard focus, and says a phase change in the live region.
 */
const SCRIPT = `(function () {
  'use strict';
  var own = document.body.getAttribute('data-policy');
  var live = document.getElementById('live');
  var busy = false, again = false;
  function swap(html) {
    var next = new DOMParser().parseFromString(html, 'text/html');
    var focused = document.activeElement && document.activeElement.getAttribute('href');
    next.querySelectorAll('[data-live][id]').forEach(function (el) {
      var old = document.getElementById(el.id);
      if (!old || old.outerHTML === el.outerHTML) return;
      old.replaceWith(document.importNode(el, true));
    });
    if (focused && !document.activeElement.closest('main')) {
      var back = document.querySelector('main a[href="' + focused.replace(/"/g, '\\\\"') + '"]');
      if (back) back.focus();
    }
  }
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.pathname, { headers: { Accept: 'text/html' }, cache: 'no-store' })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (html) { if (html) swap(html); })
      .finally(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  var phases = {};
  function changed(event) {
    var s = JSON.parse(event.data);
    var key = s.namespace + '/' + s.name;
    if (own && own !== key) return;
    if (phases[key] !== undefined && phases[key] !== s.phase) live.textContent = key + ': ' + (s.phase || 'not adopted');
    phases[key] = s.phase;
    refresh();
  }
  var source = new EventSource('/api/v1/events');
  source.addEventListener('policy', changed);
  source.addEventListener('deleted', changed);
  document.body.setAttribute('data-live-updates', 'on');
})();
`;

export const ASSETS: Record<string, { type: string; body: string }> = {
  '/style.css': { type: 'text/css; charset=utf-8', body: STYLE },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: SCRIPT },
};
