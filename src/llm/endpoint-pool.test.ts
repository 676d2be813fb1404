import { describe, expect, it } from 'vitest';
import { EndpointPool, SharedEndpointPools, displayUrl, type EndpointSpec } from './endpoint-pool.js';

const spec = (url: string, maxConcurrency: number, extra: Partial<EndpointSpec> = {}): EndpointSpec => ({ url, apiKey: 'k', models: null, maxConcurrency, weight: 1, ...extra });

describe('EndpointPool routing', () => {
  it('sends each request to the endpoint with the fewest in flight relative to its limit, and queues when all are full', async () => {
    const pool = new EndpointPool([spec('http://a/v1', 4), spec('http://b/v1', 2)], 1000);
    const [a, b] = pool.endpoints;
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push((await pool.acquire('m')).label);
    // By hand: loads (in flight + 1) / limit: a .25 < b .5; a .5 = b .5 (first wins); a .75 > b .5;
    // a .75 < b 1; a 1 = b 1; a full.
    expect(got).toEqual(['http://a/v1', 'http://a/v1', 'http://b/v1', 'http://a/v1', 'http://a/v1', 'http://b/v1']);
    let seventh: string | null = null;
    const waiting = pool.acquire('m').then((e) => (seventh = e.label));
    await Promise.resolve();
    expect(seventh).toBeNull();
    pool.release(b);
    await waiting;
    expect(seventh).toBe('http://b/v1');
    expect([a.inFlight, b.inFlight]).toEqual([4, 2]);
  });

  it('weights shift the share; models restrict who serves what', async () => {
    const pool = new EndpointPool([spec('http://a/v1', 4, { weight: 3, models: ['small', 'large'] }), spec('http://b/v1', 4, { models: ['small'] })], 1000);
    const first = [await pool.acquire('small'), await pool.acquire('small'), await pool.acquire('small')].map((e) => e.label);
    // a: 1/12, 2/12, 3/12 against b's 1/4 = 3/12: a, a, then the tie goes to a (first).
    expect(first).toEqual(['http://a/v1', 'http://a/v1', 'http://a/v1']);
    expect((await pool.acquire('small')).label).toBe('http://b/v1');
    expect((await pool.acquire('large')).label).toBe('http://a/v1');
    await expect(pool.acquire('other')).rejects.toThrow(/no endpoint serves model "other"/);
  });
});

describe('EndpointPool circuit breaker', () => {
  it('takes an endpoint out after 3 transport failures, probes it with one request after the cool-down, and puts it back when it answers', async () => {
    let now = 0;
    const pool = new EndpointPool([spec('http://a/v1', 8), spec('http://b/v1', 8)], 1000, { failures: 3, cooldownMs: 1000, maxCooldownMs: 4000 }, () => now);
    const [a, b] = pool.endpoints;
    for (let i = 0; i < 3; i++) {
      a.onTransportFailure(now);
      expect(a.state).toBe(i < 2 ? 'up' : 'out');
    }
    // While a is out, everything goes to b.
    for (let i = 0; i < 5; i++) expect(await pool.acquire('m')).toBe(b);
    now = 999;
    expect(await pool.acquire('m')).toBe(b);
    now = 1000;
    // The cool-down is over: the next request is the probe, and only one.
    expect(await pool.acquire('m')).toBe(a);
    expect(a.state).toBe('probing');
    expect(await pool.acquire('m')).toBe(b);
    // A failed probe doubles the cool-down.
    a.onTransportFailure(now);
    pool.release(a);
    expect(a.state).toBe('out');
    expect(a.reopenAt).toBe(3000);
    now = 3000;
    expect(await pool.acquire('m')).toBe(a);
    a.onAnswered(10, now);
    pool.release(a);
    expect(a.state).toBe('up');
    // Back to sharing by load (b has 7 in flight, a none).
    expect(await pool.acquire('m')).toBe(a);
  });

  it('serves requests waiting while every endpoint is out when the cool-down ends; fail() rejects those still waiting', async () => {
    const pool = new EndpointPool([spec('http://a/v1', 2)], 1000, { failures: 1, cooldownMs: 30 });
    const [a] = pool.endpoints;
    a.onTransportFailure(Date.now());
    expect(a.state).toBe('out');
    const waiting = [pool.acquire('m'), pool.acquire('m')];
    const probe = await waiting[0];
    expect(probe.state).toBe('probing');
    probe.onAnswered(5, Date.now());
    pool.release(probe);
    expect(await waiting[1]).toBe(a);
    await pool.acquire('m');
    const third = pool.acquire('m');
    pool.fail(new Error('stopped'));
    await expect(third).rejects.toThrow('stopped');
    await expect(pool.acquire('m')).rejects.toThrow('stopped');
  });

  it('shrinks an endpoint on 429 and grows it back one step per 20 answers', () => {
    const pool = new EndpointPool([spec('http://a/v1', 10)], 1000);
    const [a] = pool.endpoints;
    a.onRateLimited();
    expect(a.limit).toBe(7);
    for (let i = 0; i < 19; i++) a.onAnswered(1, 0);
    expect(a.limit).toBe(7);
    a.onAnswered(1, 0);
    expect(a.limit).toBe(8);
  });
});

describe('displayUrl', () => {
  it('drops credentials and the trailing slash', () => {
    expect(displayUrl('https://user:secret@example.org:8443/v1/')).toBe('https://example.org:8443/v1');
  });
});

describe('SharedEndpointPools (one worker process, several jobs)', () => {
  it('gives providers with the same endpoints one pool, so their requests share its limit; other endpoints get their own', async () => {
    const pools = new SharedEndpointPools();
    const first = pools.get([spec('http://a/v1', 2)], 1000);
    expect(pools.get([spec('http://a/v1', 2)], 1000)).toBe(first);
    expect(pools.get([spec('http://b/v1', 2)], 1000)).not.toBe(first);
    expect(pools.get([spec('http://a/v1', 3)], 1000)).not.toBe(first);
    expect(pools.size).toBe(3);
    // Two jobs (owners) asking through the shared pool: the limit of 2 holds for both together.
    const jobA = {};
    const jobB = {};
    await first.acquire('m', jobA);
    await first.acquire('m', jobB);
    let third: string | null = null;
    const waiting = first.acquire('m', jobB).then((e) => (third = e.label));
    await Promise.resolve();
    expect(third).toBeNull();
    expect(first.endpoints[0].inFlight).toBe(2);
    first.release(first.endpoints[0]);
    await waiting;
    expect(third).toBe('http://a/v1');
    expect(first.maxObserved).toBe(2);
    pools.close();
    expect(pools.size).toBe(0);
  });

  it('an owner that stops fails only its own waiting requests; the others still get served', async () => {
    const pool = new EndpointPool([spec('http://a/v1', 1)], 1000);
    const jobA = {};
    const jobB = {};
    const held = await pool.acquire('m', jobA);
    const outcomes: string[] = [];
    const a2 = pool.acquire('m', jobA).then(() => outcomes.push('A served'), (e: Error) => outcomes.push(`A: ${e.message}`));
    const b1 = pool.acquire('m', jobB).then(() => outcomes.push('B served'), (e: Error) => outcomes.push(`B: ${e.message}`));
    pool.fail(new Error('job A stopped'), jobA);
    await a2;
    expect(outcomes).toEqual(['A: job A stopped']);
    pool.release(held);
    await b1;
    expect(outcomes).toEqual(['A: job A stopped', 'B served']);
    // Later requests of other owners are not refused either.
    pool.release(pool.endpoints[0]);
    await expect(pool.acquire('m', jobB)).resolves.toBe(pool.endpoints[0]);
  });
});
