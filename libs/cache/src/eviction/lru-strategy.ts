import { EvictionStrategy } from './eviction-strategy.interface';
import { growInt32Array as grow } from './grow-int32-array';

const NONE = -1;

/** Least recently used: a doubly linked list over slots in two typed arrays; every operation is O(1). */
export class LruStrategy implements EvictionStrategy {
  readonly name = 'lru';
  /** `prev` and `next`. */
  readonly bytesPerSlot = 8;
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  /** Most recently used. */
  private head = NONE;
  /** Least recently used: the next victim. */
  private tail = NONE;

  resize(capacity: number): void {
    this.prev = grow(this.prev, capacity);
    this.next = grow(this.next, capacity);
  }

  insert(slot: number, _key?: string): void {
    this.linkAtHead(slot);
  }

  access(slot: number): void {
    if (slot === this.head) return;
    this.unlink(slot);
    this.linkAtHead(slot);
  }

  remove(slot: number): void {
    this.unlink(slot);
  }

  victim(): number {
    return this.tail;
  }

  private linkAtHead(slot: number): void {
    this.prev[slot] = NONE;
    this.next[slot] = this.head;
    if (this.head !== NONE) this.prev[this.head] = slot;
    else this.tail = slot;
    this.head = slot;
  }

  private unlink(slot: number): void {
    const p = this.prev[slot];
    const n = this.next[slot];
    if (p !== NONE) this.next[p] = n;
    else this.head = n;
    if (n !== NONE) this.prev[n] = p;
    else this.tail = p;
  }
}
