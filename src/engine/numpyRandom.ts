// numpy's legacy random stream (np.random.seed / RandomState: MT19937), as far as the Patch-LFW
// reference draws from it: seeding with an integer, randint(low, high, size), choice(a, size) and
// shuffle/permutation. With it a set built from LFW alone reproduces the reference's patch
// coordinates, and --reference-compat its random pixel order, exactly.

const N = 624;
const M = 397;

export class NumpyRandomState {
  private readonly mt = new Uint32Array(N);
  private index = N;

  /** np.random.seed(seed) for an integer 0 ≤ seed < 2³² (numpy's mt19937_seed, Knuth's initialisation). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`numpy seeds are whole numbers in 0…2³²−1, got ${seed}`);
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      // 1812433253 · prev + i mod 2³², in two 16-bit halves so no product leaves the exact range.
      this.mt[i] = ((((prev >>> 16) * 1812433253) << 16) + (prev & 0xffff) * 1812433253 + i) >>> 0;
    }
  }

  /** The next raw 32-bit output (genrand_int32). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
      mt[i] = mt[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }

  /**
   * random_interval(max): a value in 0 … max, as numpy draws it for max below 2³²: a 32-bit output
   * masked to the smallest all-ones mask covering max, drawn again while it exceeds max.
   */
  private interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    for (const shift of [1, 2, 4, 8, 16]) mask |= mask >>> shift;
    let value: number;
    do value = (this.nextUint32() & mask) >>> 0;
    while (value > max);
    return value;
  }

  /** randint(low, high, size) for a range below 2³²: low + random_interval(high − 1 − low), size times. */
  randint(low: number, high: number, size: number): number[] {
    const range = high - 1 - low;
    if (!Number.isInteger(low) || !Number.isInteger(high) || range < 0 || range > 0xfffffffe) throw new RangeError(`randint(${low}, ${high}): need low < high, a range below 2³²`);
    return Array.from({ length: size }, () => low + this.interval(range));
  }

  /** choice(a, size) with replacement and uniform weights: a[randint(0, len(a), size)]. */
  choice<T>(a: readonly T[], size: number): T[] {
    if (a.length === 0) throw new RangeError('choice: the population is empty');
    return this.randint(0, a.length, size).map((i) => a[i]);
  }

  /** shuffle(x) in place: from the last position down to 1, swap x[i] with x[random_interval(i)]. */
  shuffle<T>(x: T[] | Uint32Array): void {
    for (let i = x.length - 1; i > 0; i--) {
      const j = this.interval(i);
      [x[i], x[j]] = [x[j], x[i]];
    }
  }

  /** permutation(n): np.arange(n) shuffled. */
  permutation(n: number): Uint32Array {
    const order = Uint32Array.from({ length: n }, (_, i) => i);
    this.shuffle(order);
    return order;
  }
}
