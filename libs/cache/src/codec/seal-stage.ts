import { DecryptedPayload } from '../security/encryption-provider.interface';
import { NamespaceCipher } from '../security/namespace-cipher';
import { PayloadStage, Rewrap } from './payload-stage';

/**
 * Encryption at rest as a codec stage: seals the text for its namespace and context (the key, and a
 * tier's envelope), and opens it on the way back. A payload that does not authenticate throws
 * `DecryptionFailedError` (the codec treats the entry as a tamper); one sealed with an older key is
 * answered as a `Rewrap` when `reencryptOnRead` is on.
 */
export class SealStage implements PayloadStage {
  readonly name = 'seal';

  constructor(private readonly cipher: NamespaceCipher) {}

  wrap(text: string, context: string): string {
    return this.cipher.seal(text, context);
  }

  unwrap(payload: string, context: string, key: string): string | Rewrap {
    const opened = this.cipher.open(payload, context);
    if (opened.stale && this.cipher.reencryptOnRead) return new StaleSeal(this.cipher, key, context, opened);
    return opened.plaintext;
  }
}

/** A payload opened with an older key: sealed again with the newest only if the store can swap it in. */
class StaleSeal implements Rewrap {
  readonly text: string;

  constructor(private readonly cipher: NamespaceCipher, private readonly key: string, private readonly context: string, private readonly opened: DecryptedPayload) {
    this.text = opened.plaintext;
  }

  rewrap(): string {
    return this.cipher.seal(this.text, this.context);
  }

  replaced(): void {
    this.cipher.rotated(this.key, this.opened);
  }
}
