/**
 * Bounds requests in flight. The limit shrinks when the server says "too many requests" and grows
 * back one step per run of successes, so a run settles at what the server sustains.
 */
export class AdaptiveLimiter {
  private active = 0;
  /** Waiting tasks in arrival order, from `head` on: a round queues thousands, and Array.shift is O(n). */
  private waiting: Array<() => void> = [];
  private head = 0;
  private limit: number;
  private successes = 0;
  maxObserved = 0;

  constructor(private readonly max: number) {
    this.limit = max;
  }

  get current(): number {
    return this.limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    while (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    this.maxObserved = Math.max(this.maxObserved, this.active);
    try {
      return await task();
    } finally {
      this.active -= 1;
      this.wakeOne();
    }
  }

  private wakeOne(): void {
    if (this.head >= this.waiting.length) return;
    const next = this.waiting[this.head++];
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    next();
  }

  onRateLimited(): void {
    this.limit = Math.max(1, Math.floor(this.limit * 0.7));
    this.successes = 0;
  }

  onSuccess(): void {
    this.successes += 1;
    if (this.limit < this.max && this.successes >= 20) {
      this.limit += 1;
      this.successes = 0;
      this.wakeOne();
    }
  }
}
