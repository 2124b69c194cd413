/**
 * msgpackr through the optional peer dependency of that name. Loaded when a `MsgpackSerializer` is
 * made, once; the library installs and runs without it, and only that serializer needs it.
 */

/** The options of msgpackr's `Packr`/`Unpackr` the serializer sets. */
export interface MsgpackrOptions {
  useRecords?: boolean;
  moreTypes?: boolean;
  useToJSON?: boolean;
  variableMapSize?: boolean;
  mapsAsObjects?: boolean;
  copyBuffers?: boolean;
  structuredClone?: boolean;
  int64AsType?: 'bigint';
  bundleStrings?: boolean;
  sequential?: boolean;
  encodeUndefinedAsNil?: boolean;
}

/** The part of msgpackr's API the library calls. */
export interface Msgpackr {
  Packr: new (options: MsgpackrOptions) => { pack(value: unknown): Buffer };
  Unpackr: new (options: MsgpackrOptions) => { unpack(bytes: Buffer): unknown };
}

let loaded: Msgpackr | null | undefined;

/** msgpackr, or null when it is not installed. */
export function loadMsgpackr(): Msgpackr | null {
  if (loaded === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require('msgpackr') as Msgpackr;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}
