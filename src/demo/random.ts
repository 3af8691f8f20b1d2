/**
 * A small seeded random source (mulberry32) for the demo data: the same seed
 * always gives the same sequence, on every machine and Node version.
 */

/** Mixes two 32-bit values into one (a stateless hash, murmur3's finalizer). */
export function hash32(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const HEX = '0123456789abcdef';
const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

export class Rng {
  #state: number;

  /** `stream` gives independent sequences from one seed (one per demo table). */
  constructor(seed: number, stream = 0) {
    this.#state = hash32(seed | 0, stream);
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks with a bias towards the start of the list (popular items first). */
  pickSkewed<T>(items: readonly T[], power = 2): T {
    return items[Math.floor(this.next() ** power * items.length)]!;
  }

  hex(length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += HEX[Math.floor(this.next() * 16)];
    return s;
  }

  alnum(length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += ALNUM[Math.floor(this.next() * ALNUM.length)];
    return s;
  }

  bytes(length: number): Buffer {
    const b = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
}

/** Builds a picker over weighted choices. */
export function weighted<T>(choices: readonly (readonly [T, number])[]): (rng: Rng) => T {
  const total = choices.reduce((s, [, w]) => s + w, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const [, w] of choices) cumulative.push((acc += w / total));
  return (rng) => {
    const r = rng.next();
    for (let i = 0; i < cumulative.length; i++) if (r < cumulative[i]!) return choices[i]![0];
    return choices[choices.length - 1]![0];
  };
}
