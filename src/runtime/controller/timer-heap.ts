/** An entry of the heap: a key due at a time; `seq` breaks ties in arrival order. */
export interface Due {
  at: number;
  seq: number;
  id: string;
}

const before = (a: Due, b: Due): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** A binary min-heap of due times. Entries are never removed early: the queue skips those it no longer wants. */
export class TimerHeap {
  private readonly items: Due[] = [];
  private seq = 0;

  push(id: string, at: number): void {
    this.items.push({ id, at, seq: this.seq++ });
    this.up(this.items.length - 1);
  }

  peek(): Due | undefined {
    return this.items[0];
  }

  pop(): Due | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (top && last && this.items.length > 0) {
      this.items[0] = last;
      this.down(0);
    }
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }

  get size(): number {
    return this.items.length;
  }

  private up(start: number): void {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.swapIfBefore(i, parent)) return;
      i = parent;
    }
  }

  private down(start: number): void {
    let i = start;
    for (;;) {
      let best = i;
      for (const child of [2 * i + 1, 2 * i + 2]) {
        const c = this.items[child];
        const b = this.items[best];
        if (c && b && before(c, b)) best = child;
      }
      if (best === i || !this.swapIfBefore(best, i)) return;
      i = best;
    }
  }

  /** Swaps entries i and j when i is due before j; says whether it did. */
  private swapIfBefore(i: number, j: number): boolean {
    const a = this.items[i];
    const b = this.items[j];
    if (!a || !b || !before(a, b)) return false;
    this.items[i] = b;
    this.items[j] = a;
    return true;
  }
}
