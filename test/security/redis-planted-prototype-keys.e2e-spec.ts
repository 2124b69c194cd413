/**
 * Threat: someone who can write to the app's Redis (another service on a shared instance, a leaked
 * password, a compromised replica) plants an entry under a namespace key whose JSON owns `__proto__`,
 * `constructor` or `prototype` properties. JSON.parse keeps them as own properties; app code that
 * merges the cached value (a naive deep merge, `Object.assign`, class-transformer) then writes through
 * them into `Object.prototype`: every object of the process "is admin".
 *
 * Defended: the tagged-JSON serializer refuses such payloads (a miss; the entry is dropped and counted),
 * and `valueSchema` refuses them again whatever the serializer, so the handler never sees them; on the
 * L2 of a tiered namespace too, and the MessagePack serializer refuses the same keys in planted
 * MessagePack frames. The app's job: keep untrusted clients off its Redis (ACLs on the key
 * prefix), and not deep-merge untrusted data anywhere else.
 */
import { randomBytes } from 'node:crypto';
import { Controller, Get, INestApplication, Param, Query } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Allow, IsString } from 'class-validator';
import Keyv from 'keyv';
import { Packr } from 'msgpackr';
import { CachekitKeyvStore, CacheModule, CacheService, InvalidValueError, MsgpackSerializer, Serializer } from 'nest-cachekit';
import request from 'supertest';
import { useRedisServer } from '../support/redis-server';

class ProfileDto {
  @IsString()
  name!: string;

  @IsString()
  plan!: string;

  /** Free-form preferences: any shape is allowed here, which is where a planted `__proto__` hides. */
  @Allow()
  prefs?: unknown;
}

/** A serializer without any protection of its own: only `valueSchema` stands between Redis and the app. */
const plainJson: Serializer = { name: 'plain-json', serialize: (v) => JSON.stringify(v), deserialize: (p) => JSON.parse(p) };

/** The kind of merge many apps write (and older lodash `merge` did): it follows `__proto__` and `constructor.prototype`. */
function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value !== null && typeof value === 'object') {
      const current = target[key];
      if (current === null || (typeof current !== 'object' && typeof current !== 'function')) target[key] = {};
      deepMerge(target[key] as Record<string, unknown>, value as Record<string, unknown>);
    } else {
      target[key] = value;
    }
  }
  return target;
}

let loads = 0;

@Controller('profiles')
class ProfileController {
  constructor(private readonly cache: CacheService) {}

  /** The profile, cached, merged over defaults: what a settings page would render. */
  @Get(':id')
  async show(@Param('id') id: string, @Query('ns') ns: string): Promise<object> {
    const cached = await this.cache.namespace(ns).getOrSet(id, () => {
      loads++;
      return { name: 'loaded', plan: 'free' };
    });
    const view = deepMerge({ name: '', plan: 'free' }, cached as Record<string, unknown>);
    return { name: view.name, admin: view.isAdmin === true, everyObjectIsAdmin: ({} as Record<string, unknown>).isAdmin === true };
  }
}

const ADMIN = '{"isAdmin":true}';
/** Written with a plain Redis client: as plain JSON (what any JSON writer makes) and in the serializer's tagged forms. */
const PLANTED: [string, string][] = [
  ['an own __proto__ (plain JSON)', `{"name":"mallory","plan":"free","__proto__":${ADMIN}}`],
  ['constructor.prototype (plain JSON)', `{"name":"mallory","plan":"free","constructor":{"prototype":${ADMIN}}}`],
  ['an own prototype (plain JSON)', `{"name":"mallory","plan":"free","prototype":${ADMIN}}`],
  ['a nested __proto__ (plain JSON)', `{"name":"mallory","plan":"free","prefs":{"__proto__":${ADMIN}}}`],
  ['__proto__ inside the serializer\'s escaped-object tag', `{"$t":"Object","v":{"$t":"x","name":"mallory","plan":"free","__proto__":${ADMIN}}}`],
  ['constructor.prototype under a tagged Date field', `{"name":"mallory","plan":"free","at":{"$t":"Date","v":0},"constructor":{"prototype":${ADMIN}}}`],
];

describe('planted entries with __proto__ / constructor / prototype properties are never handed to the app', () => {
  let app: INestApplication;
  const redis = useRedisServer({ flushBeforeEach: true, beforeStop: () => app?.close() });
  let cache: CacheService;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({
        redis: { url: redis.server.url },
        bus: { secret: randomBytes(32).toString('base64') },
        namespaces: {
          profiles: { backend: 'redis' },
          tiered: { backend: 'redis', l1: { maxEntries: 100 } },
          checked: { backend: 'redis', serializer: plainJson, valueSchema: { dto: ProfileDto } },
          kv: { backend: 'redis' },
          msgpack: { backend: 'redis', serializer: new MsgpackSerializer() },
        },
      })],
      controllers: [ProfileController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    cache = app.get(CacheService);
  });
  afterEach(() => {
    // Undo what a successful attack did, so that one failing case does not spill into the next.
    delete (Object.prototype as Record<string, unknown>).isAdmin;
  });

  let attacks = 0;
  const attack = async (ns: string, payload: string | Buffer): Promise<void> => {
    // A key of its own per case: a tiered namespace's L1 keeps what an earlier case loaded.
    const id = `mallory${++attacks}`;
    await redis.admin.set(`cache:{${ns}}:${id}`, payload);
    const dropped = cache.namespace(ns).stats().unreadableDropped;
    const before = loads;
    const res = await request(app.getHttpServer()).get(`/profiles/${id}?ns=${ns}`).expect(200);
    expect(res.body).toEqual({ name: 'loaded', admin: false, everyObjectIsAdmin: false });
    expect(loads).toBe(before + 1);
    expect(cache.namespace(ns).stats().unreadableDropped).toBe(dropped + 1);
    // The planted entry was dropped; what the key holds now is the app's own value.
    const now = await redis.admin.getBuffer(`cache:{${ns}}:${id}`);
    expect(now !== null && now.equals(Buffer.from(payload))).toBe(false);
    await request(app.getHttpServer()).get(`/profiles/${id}?ns=${ns}`).expect(200, { name: 'loaded', admin: false, everyObjectIsAdmin: false });
    expect(loads).toBe(before + 1);
  };

  it.each(PLANTED)('refused by the tagged-JSON serializer: %s', (_, payload) => attack('profiles', payload));

  it.each(PLANTED)('refused on the L2 of a tiered namespace: %s', (_, payload) => attack('tiered', payload));

  // (An own `prototype` at the top level is an unknown property, which the schema refused already.)
  it.each(PLANTED.filter(([what]) => what.endsWith('(plain JSON)') && what !== 'an own prototype (plain JSON)'))(
    'refused by valueSchema behind a serializer that lets it through: %s', (_, payload) => attack('checked', payload));

  // Written as any MessagePack writer would (a plain msgpackr), in the frame a byte serializer's entries use.
  const packr = new Packr({ useRecords: false });
  const msgpackFrame = (json: string): Buffer => Buffer.concat([Buffer.from([0xc1, 0x01, 0x10]), packr.pack(JSON.parse(json))]);
  it.each(PLANTED.filter(([what]) => what.endsWith('(plain JSON)')))(
    'refused by the MessagePack serializer, planted as MessagePack: %s', (_, payload) => attack('msgpack', msgpackFrame(payload)));

  it('refused for a Keyv store over a namespace, with Keyv\'s own (re-parsing) serializer off', async () => {
    const keyv = new Keyv({ store: new CachekitKeyvStore(cache.namespace('kv')), serialize: undefined, deserialize: undefined });
    await keyv.set('ada', { name: 'ada', plan: 'pro' });
    expect(await keyv.get('ada')).toEqual({ name: 'ada', plan: 'pro' });
    for (const [, planted] of PLANTED) {
      await redis.admin.set('cache:{kv}:keyv:mallory', `{"value":${planted},"expires":null}`);
      const value = (await keyv.get('mallory')) as Record<string, unknown> | undefined;
      expect(value).toBeUndefined();
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    }
  });

  it('refuses to write such a value (parsed from a request body, say), naming the path, so that none is ever stored', async () => {
    const body = JSON.parse(`{"name":"mallory","plan":"free","prefs":{"__proto__":${ADMIN}}}`);
    const error = await cache.namespace('profiles').set('mallory-body', body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidValueError);
    expect((error as InvalidValueError).message).toContain('value.prefs.__proto__');
    expect(await redis.admin.exists('cache:{profiles}:mallory-body')).toBe(0);
  });

  it('still serves an entry that only names those words as values or Map keys', async () => {
    await cache.namespace('profiles').set('ada', { name: '__proto__', plan: 'constructor', prefs: new Map([['prototype', 1]]) });
    const dropped = cache.namespace('profiles').stats().unreadableDropped;
    expect(await cache.namespace('profiles').get('ada')).toEqual({ name: '__proto__', plan: 'constructor', prefs: new Map([['prototype', 1]]) });
    expect(cache.namespace('profiles').stats().unreadableDropped).toBe(dropped);
  });
});
