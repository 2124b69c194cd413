/** Copies `array` into a larger one (or returns it when already large enough), keeping slot numbers. */
export function growInt32Array(array: Int32Array<ArrayBuffer>, capacity: number): Int32Array<ArrayBuffer> {
  if (array.length >= capacity) return array;
  const bigger = new Int32Array(capacity);
  bigger.set(array);
  return bigger;
}
