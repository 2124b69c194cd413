import { inspect } from 'node:util';
import { BackendUnavailableError } from './backend-unavailable.error';

describe('BackendUnavailableError', () => {
  it('keeps the cause but not the arguments of the command the client attached to it (AUTH password, SET key and value)', () => {
    const auth = Object.assign(new Error('WRONGPASS invalid username-password pair'), { command: { name: 'auth', args: ['ada', 'S3cret-pw'] } });
    const set = Object.assign(new Error('OOM command not allowed'), { command: { name: 'set', args: ['cache:{users}:user:42', '{"email":"ada@example.com"}'] } });
    const aborted = Object.assign(new Error('EXECABORT Transaction discarded because of previous errors.'), { previousErrors: [set] });
    for (const cause of [auth, aborted]) {
      const error = new BackendUnavailableError('redis', 'users', 'set', cause);
      expect(error.cause).toBe(cause);
      const shown = inspect(error, { depth: 10, showHidden: true });
      for (const secret of ['S3cret-pw', 'user:42', 'ada@example.com']) expect(shown).not.toContain(secret);
    }
    expect(auth.command).toEqual({ name: 'auth' });
    expect(set.command).toEqual({ name: 'set' });
  });
});
