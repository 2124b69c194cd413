import { SingleFlight } from './single-flight';

/**
 * A caller whose miss was read before a load stored its value, but whose continuation runs after the
 * load settled (both replies in one socket chunk), joins that load for the rest of the turn.
 */
describe('SingleFlight', () => {
  const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it('lets a stored load be joined until the end of the turn it settled in', async () => {
    const flights = new SingleFlight('users');
    const load = flights.run('k', async (flight) => {
      flight.stored = true;
      return 'v';
    });
    await load;
    const joined = flights.join<string>('k');
    expect(joined).toBeDefined();
    expect(await joined).toBe('v');
    expect(flights.joinLoad('k')).toBeUndefined(); // a fresh caller reads the store instead
    await nextTurn();
    expect(flights.join('k')).toBeUndefined();
  });

  it('never hands out a load whose value was not stored, or one superseded by a write', async () => {
    const flights = new SingleFlight('users');
    await flights.run('unstored', async () => null);
    expect(flights.join('unstored')).toBeUndefined();
    await flights.run('written', async (flight) => {
      flight.stored = true;
      return 'old';
    });
    flights.supersede('written');
    expect(flights.join('written')).toBeUndefined();
  });
});
