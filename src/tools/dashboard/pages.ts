import { formatDuration } from '../../pipeline/policy/duration.js';
import type { CheckPoint, CheckSeries } from '../../pipeline/record/audit/report/build.js';
import {
  chartDescription,
  checksChartSvg,
  xmlEscape as esc,
  type Chart,
} from '../../pipeline/record/audit/report/svg.js';
import type { PolicyDetail, PolicySummary, RolloutView } from '../view/document.js';

/**
 * The dashboard's pages: plain HTML rendered on the server from the status documents, one stylesheet
 * and one small script (assets.ts) for the live updates. Elements with `data-live` and an id are what
 * the script swaps in place when a policy changes.
 */

const TONE: Record<string, string> = {
  Succeeded: 'good',
  Progressing: 'good',
  Promoting: 'good',
  RolledBack: 'bad',
  Failed: 'bad',
  Paused: 'warn',
};

function page(title: string, body: string, policy?: string): string {
  const data = policy ? ` data-policy="${esc(policy)}"` : '';
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/>` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"/><title>${esc(title)}</title>` +
    `<link rel="stylesheet" href="/style.css"/><script src="/app.js" defer></script></head>` +
    `<body${data}><a class="skip" href="#main">Skip to the content</a>` +
    `<header><nav aria-label="Dashboard"><a href="/">Kubestead: all policies</a></nav></header>` +
    `<main id="main" tabindex="-1">\n${body}\n</main>` +
    `<div id="live" class="visually-hidden" role="status" aria-live="polite"></div></body></html>\n`
  );
}

const phase = (value: string | null): string =>
  `<span class="phase ${TONE[value ?? ''] ?? 'dim'}">${esc(value ?? 'not adopted yet')}</span>`;

const pct = (value: number | null): string => (value === null ? '–' : `${Math.round(value * 100) / 100}%`);

function ago(time: string | null, now: number): string {
  const at = time === null ? Number.NaN : Date.parse(time);
  return Number.isNaN(at) ? '–' : formatDuration(Math.max(0, Math.round((now - at) / 1000)));
}

function decisionText(decision: PolicySummary['lastDecision']): string {
  if (!decision) return 'none yet';
  const first = decision.reasons[0];
  return `${decision.action}${first ? `: ${first.message}` : ''}`;
}

function table(caption: string, head: string[], rows: string[][], attrs = ''): string {
  const th = head.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table${attrs}><caption>${esc(caption)}</caption><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

function overviewRow(s: PolicySummary, now: number): string {
  const key = `${s.namespace}/${s.name}`;
  const href = `/policies/${encodeURIComponent(s.namespace)}/${encodeURIComponent(s.name)}`;
  return (
    `<tr data-policy="${esc(key)}"><th scope="row"><a href="${esc(href)}">${esc(key)}</a></th>` +
    `<td data-field="phase">${phase(s.phase)}</td><td data-field="step">${esc(s.step?.label ?? '–')}</td>` +
    `<td data-field="asked" class="num">${pct(s.weight.asked)}</td>` +
    `<td data-field="given" class="num">${pct(s.weight.given)}</td>` +
    `<td data-field="decision">${esc(decisionText(s.lastDecision))}</td>` +
    `<td data-field="age" class="num">${ago(s.createdAt, now)}</td></tr>`
  );
}

/** Every policy at a glance: phase, step, weight asked and given, last decision, age; a link to each. */
export function overviewPage(summaries: PolicySummary[], now: number): string {
  const head = ['policy', 'phase', 'step', 'weight asked', 'weight given', 'last decision', 'age'];
  const th = head.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const rows = summaries.map((s) => overviewRow(s, now)).join('');
  const empty = summaries.length === 0 ? '<p id="empty">No RolloutPolicy to show.</p>' : '';
  const body =
    `<h1>Rollout policies</h1><p>Updated live as the controller decides.</p>${empty}` +
    `<table id="policies" data-live><caption>${summaries.length} policies</caption>` +
    `<thead><tr>${th}</tr></thead><tbody>${rows}</tbody></table>`;
  return page('Kubestead: rollout policies', body);
}

function summaryList(d: PolicyDetail): string {
  const items: Array<[string, string, string]> = [
    ['phase', 'Phase', phase(d.phase)],
    ['step', 'Step', esc(d.step?.label ?? '–')],
    ['weight', 'Weight asked / given', `${pct(d.weight.asked)} / ${pct(d.weight.given)}`],
    [
      'revisions',
      'Revisions',
      `stable <code>${esc(d.revisions.stable ?? '–')}</code>, canary <code>${esc(d.revisions.canary ?? '–')}</code>`,
    ],
    ['mode', 'Mode', esc(d.mode)],
  ];
  const rows = items.map(([field, name, value]) => `<dt>${name}</dt><dd data-field="${field}">${value}</dd>`).join('');
  return `<section id="summary" data-live aria-labelledby="summary-h"><h2 id="summary-h">Now</h2><dl>${rows}</dl></section>`;
}

function stepsSection(d: PolicyDetail): string {
  const items = d.steps.map((s) => {
    const what =
      s.kind === 'pause'
        ? `pause ${s.duration ?? 'until resumed'}`
        : `weight ${pct(s.weight)} for ${s.duration ?? '–'}`;
    const current = s.state === 'current' ? ' aria-current="step"' : '';
    return `<li class="${s.state}"${current}><span class="label">step ${esc(s.label)}</span> ${esc(what)} <span class="state">(${s.state})</span></li>`;
  });
  return `<section id="steps" data-live aria-labelledby="steps-h"><h2 id="steps-h">Steps</h2><ol class="timeline">${items.join('')}</ol></section>`;
}

/** The rollout's checks as the report's chart draws them: every recorded value against its bounds, the step boundaries. */
export function rolloutChart(d: PolicyDetail, rollout: RolloutView): Chart {
  const checks: Record<string, CheckSeries> = {};
  for (const [name, s] of Object.entries(rollout.checks)) {
    const points = s.points.map((p) => ({ ...p, status: p.status as CheckPoint['status'] }));
    checks[name] = { provider: 'this rollout', query: '', min: s.min, max: s.max, points };
  }
  const times = rollout.timeline.map((t) => Date.parse(t.time));
  return {
    title: `${d.namespace}/${d.name}: checks over the newest rollout`,
    checks,
    steps: rollout.timeline
      .filter((t) => t.kind === 'decision' && t.action === 'advance')
      .map((t) => ({ time: Date.parse(t.time), step: Number(t.step.split('/')[0]) })),
    stepCount: d.step?.count ?? d.steps.length,
    breach: null,
    breachTime: rollout.timeline.at(-1)?.time ?? '',
    fallback: [Math.min(...times), Math.max(...times)],
  };
}

function bounds(min: number | null, max: number | null): string {
  return [min === null ? '' : `min ${min}`, max === null ? '' : `max ${max}`].filter(Boolean).join(', ') || 'no bound';
}

function checksSection(d: PolicyDetail): string {
  const rows = Object.entries(d.checks).map(([name, c]) => [
    esc(name),
    esc(c.value === null || c.value === undefined ? (c.status ?? '–') : String(c.value)),
    esc(bounds(c.min ?? null, c.max ?? null)),
    esc(c.verdict ?? c.status ?? '–'),
  ]);
  const latest = rows.length
    ? table('Each check as of the last tick', ['check', 'value', 'bounds', 'verdict'], rows)
    : '<p>No check measured yet.</p>';
  let chart = '<p>No rollout recorded in the audit chain yet.</p>';
  if (d.rollout) {
    const c = rolloutChart(d, d.rollout);
    const svg = checksChartSvg(c).replace(/^<\?xml[^>]*>\n/, '');
    chart = `<figure>${svg}<figcaption>${esc(chartDescription(c))}</figcaption></figure>`;
  }
  return `<section id="checks" data-live aria-labelledby="checks-h"><h2 id="checks-h">Checks</h2>${latest}${chart}</section>`;
}

function decisionSection(d: PolicyDetail): string {
  const decision = d.lastDecision;
  const body = decision
    ? `<p><strong>${esc(decision.action)}</strong> at <time>${esc(decision.time)}</time></p><ul>${decision.reasons
        .map((r) => `<li><code>${esc(r.rule)}</code>${r.check ? ` [${esc(r.check)}]` : ''}: ${esc(r.message)}</li>`)
        .join('')}</ul>`
    : '<p>No decision yet.</p>';
  return `<section id="decision" data-live aria-labelledby="decision-h"><h2 id="decision-h">Last decision</h2>${body}</section>`;
}

function overridesSection(d: PolicyDetail): string {
  const rows = d.overrides.map((o) => [esc(o.action), esc(o.actor ?? '(unknown)'), esc(o.time), String(o.seq)]);
  const last = d.lastOverride
    ? `<p>Last: ${esc(d.lastOverride.action)} by ${esc(d.lastOverride.actor)} at ${esc(d.lastOverride.time)}</p>`
    : '';
  const body = rows.length
    ? table('Overrides in the audit chain', ['override', 'who', 'time', 'seq'], rows)
    : '<p>No override.</p>';
  return `<section id="overrides" data-live aria-labelledby="overrides-h"><h2 id="overrides-h">Overrides</h2>${last}${body}</section>`;
}

function auditSection(d: PolicyDetail): string {
  const a = d.audit;
  const body = a
    ? `<p class="${a.verified ? 'good' : 'bad'}">${a.verified ? 'Verified' : 'Not verified'}: ${esc(a.summary)}</p>` +
      `<p>${a.entries} entries; head <code>${esc(a.head ?? '–')}</code></p>`
    : '<p>No audit chain yet.</p>';
  const rows = (d.rollout?.timeline ?? []).map((t) => [
    String(t.seq),
    esc(t.time),
    esc(t.kind),
    esc(t.action),
    esc(t.step),
    esc(t.message),
    esc(t.actor ?? ''),
  ]);
  const timeline = rows.length
    ? table("The rollout's entries, oldest first", ['seq', 'time', 'kind', 'action', 'step', 'message', 'who'], rows)
    : '';
  return `<section id="audit" data-live aria-labelledby="audit-h"><h2 id="audit-h">Audit chain</h2>${body}${timeline}</section>`;
}

function reportsSection(d: PolicyDetail): string {
  const rows = d.reports.map((r) => [esc(r.name), String(r.seq), esc(r.rolledBackAt), esc(r.reasons.join('; '))]);
  const body = rows.length
    ? `${table('Rollback reports (kubestead report NAME)', ['report', 'seq', 'rolled back at', 'why'], rows)}`
    : '<p>No rollback.</p>';
  return `<section id="reports" data-live aria-labelledby="reports-h"><h2 id="reports-h">Rollback reports</h2>${body}</section>`;
}

/** One policy: now, its steps as a timeline, its checks' chart, the last decision, overrides, the audit chain, reports. */
export function policyPage(d: PolicyDetail, now: number): string {
  const key = `${d.namespace}/${d.name}`;
  const body = [
    `<h1>${esc(key)}</h1><p>Created ${ago(d.createdAt, now)} ago.</p>`,
    summaryList(d),
    stepsSection(d),
    checksSection(d),
    decisionSection(d),
    overridesSection(d),
    auditSection(d),
    reportsSection(d),
  ].join('\n');
  return page(`Kubestead: ${key}`, body, key);
}

export function notFoundPage(code: number, message: string): string {
  return page(`Kubestead: ${code}`, `<h1>${code}</h1><p>${esc(message)}</p>`);
}
