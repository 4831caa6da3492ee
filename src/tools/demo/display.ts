import { LiveView, renderPolicy, type PolicyView } from '../view/policy-view.js';

/** Where the demo writes: its notes, and the policy as it changes. */
export interface DemoDisplay {
  /** One line of narration (`demo: …`). */
  note(line: string): void;
  /** The policy now; called on every poll. */
  show(policy: PolicyView, now: number): void;
}

/** On a terminal: the `kubestead status --watch` view redrawn in place, in colour; notes above it. */
export class LiveDisplay implements DemoDisplay {
  private view: LiveView;

  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean }) {
    this.view = new LiveView(out);
  }

  note(line: string): void {
    this.out.write(`${line}\n`);
    // The block drawn so far stays above the note; the next one is drawn below it.
    this.view = new LiveView(this.out);
  }

  show(policy: PolicyView, now: number): void {
    this.view.show(renderPolicy(policy, { color: true, now }));
  }
}

/** What a plain line is printed for: a change of phase, step, weight or decision (not each tick's values). */
function transitionKey(policy: PolicyView): string {
  const s = policy.status ?? {};
  const reasons = (s.lastDecision?.reasons ?? []).map((r) => r.rule ?? '').join(',');
  return [s.phase, s.currentStep, s.canaryWeight, s.lastDecision?.action, reasons].join('|');
}

/**
 * Not a terminal, or --no-color: the same view as plain lines, printed once per transition, each
 * block headed by the seconds since the demo started.
 */
export class PlainDisplay implements DemoDisplay {
  private lastKey = '';

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly startedAt: number,
  ) {}

  note(line: string): void {
    this.out.write(`${line}\n`);
  }

  show(policy: PolicyView, now: number): void {
    const key = transitionKey(policy);
    if (key === this.lastKey) return;
    this.lastKey = key;
    const [headline = '', ...rest] = renderPolicy(policy, { color: false, now, log: true });
    const seconds = ((now - this.startedAt) / 1000).toFixed(1).padStart(5);
    this.out.write(`${[`[${seconds}s] ${headline}`, ...rest.map((line) => `         ${line}`)].join('\n')}\n`);
  }
}
