/**
 * Thrown by value walkers (serializers, the size estimator) with the path of the part they cannot
 * handle; the namespace turns it into an `InvalidValueError` that names the namespace.
 */
export class UnsupportedValueError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path} is ${reason}`);
    this.name = 'UnsupportedValueError';
  }
}
