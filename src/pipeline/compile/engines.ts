import { Engine, type EngineResult, type RuleProperties } from 'json-rules-engine';
import { resolvePath } from './path.js';

/** Idle engines a pool keeps: about the most ticks the work queue runs at once (32), with room. */
const MAX_IDLE = 64;

/**
 * The json-rules-engine engines of one rule set, shared by every policy compiled to it. An engine
 * keeps a run's state on itself, so each run takes an engine no other run holds (a new one when
 * all are busy) and gives it back after. The engines kept are as many as ran at once, not one a
 * policy: each held its own copy of the rule's conditions (about 5 KiB and 100 objects a policy,
 * kept for the process's life, which every full garbage collection walked).
 */
export class EnginePool {
  private readonly idle: Engine[] = [];
  private made = 0;

  constructor(private readonly rule: RuleProperties) {}

  async run(facts: Record<string, unknown>): Promise<EngineResult> {
    const engine = this.idle.pop() ?? this.make();
    try {
      return await engine.run(facts);
    } finally {
      if (this.idle.length < MAX_IDLE) this.idle.push(engine);
    }
  }

  /** Engines made so far (what a test reads: runs at once, not runs in all). */
  get size(): number {
    return this.made;
  }

  private make(): Engine {
    this.made += 1;
    return new Engine([this.rule], { allowUndefinedFacts: true, pathResolver: resolvePath });
  }
}
