/** The binary types both value walkers (serializer and size estimator) accept, so memory and Redis namespaces agree. */
export const TYPED_ARRAYS = {
  Int8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
} as const;
export type TypedArrayName = keyof typeof TYPED_ARRAYS;
const NAMES = Object.keys(TYPED_ARRAYS) as TypedArrayName[];

/**
 * 'Buffer' for any Uint8Array (Buffers included), the built-in class name for other typed arrays
 * (subclasses included), or undefined for views no walker supports (DataView).
 */
export function binaryKind(view: ArrayBufferView): 'Buffer' | TypedArrayName | undefined {
  if (view instanceof Uint8Array) return 'Buffer';
  return NAMES.find((name) => view instanceof TYPED_ARRAYS[name]);
}
