// Differential check of Greenroom's catalog API against the real Backstage catalog backend.
//
//   scripts/dev.sh compat            (installs this directory's npm packages, needs a built
//                                     target/release/greenroom)
//   node run.mjs [--keep] [--only SUBSTRING] [--ignore KEY]... [--greenroom PATH]
//
// Both backends read catalog/ (the same absolute paths). Each case below is sent to both; the
// answers (status and JSON body) must be equal after the only normalisations that cannot be
// equal by construction:
// - `metadata.uid`: Backstage draws a random UUID per entity; both sides' uids are replaced by
//   `<uid of REF>` (and a by-uid request is sent with each side's own uid of the same entity);
// - `metadata.etag`: Backstage's is the SHA-1 of the entity with its (random) uid; both sides'
//   etags are replaced by `<etag>` once checked against that formula (a wrong one is a difference);
// - opaque cursors (`pageInfo.nextCursor`/`prevCursor`): replaced by `<cursor>`, and followed on
//   each side to compare the pages they lead to;
// - lists whose order Backstage leaves to its database (no `order` given) are compared as sets
//   (sorted by entity ref).
// Everything else, including error names, messages, `request.url` and etags, must match.
// Exit status 1 and a report of every difference when any case differs; the full answers are
// written to ../../target/compat-report.json.
import { spawn } from 'node:child_process';
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { createHash } from 'node:crypto';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const args = process.argv.slice(2);
const flag = name => args.includes(name);
const option = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const greenroomBin = resolve(option('--greenroom', join(root, 'target/release/greenroom')));
const only = option('--only', null);
// --ignore KEY: treat every member named KEY as equal (triage aid; a run with it is not a pass).
const ignored = new Set(args.flatMap((a, i) => (a === '--ignore' ? [args[i + 1]] : [])));
const bsPort = Number(process.env.COMPAT_BACKSTAGE_PORT ?? 7117);
const grPort = Number(process.env.COMPAT_GREENROOM_PORT ?? 7118);
const filesPort = Number(process.env.COMPAT_FILES_PORT ?? 7119);
const files = `http://127.0.0.1:${filesPort}`;
const sides = {
  backstage: `http://127.0.0.1:${bsPort}`,
  greenroom: `http://127.0.0.1:${grPort}`,
};

// ---------------------------------------------------------------------------------------------
// Processes

const children = [];
function start(name, cmd, argv, env) {
  mkdirSync(join(root, 'target'), { recursive: true });
  const log = join(root, `target/compat-${name}.log`);
  const child = spawn(cmd, argv, {
    cwd: here,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const keep = d => {
    text += d;
    if (text.length > 4_000_000) text = text.slice(-2_000_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('exit', () => writeFileSync(log, text));
  child.log = () => text;
  child.name = name;
  children.push(child);
  return child;
}
function stopAll() {
  // Backstage's in-memory database has nothing to lose; Greenroom gets a clean shutdown.
  for (const c of children) if (c.exitCode === null) c.kill(c.name === 'backstage' ? 'SIGKILL' : 'SIGTERM');
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const sleep = ms => new Promise(r => setTimeout(r, ms));

async function get(base, path, init, header) {
  const res = await fetch(base + path, init);
  const text = await res.text();
  const headerValue = header ? res.headers.get(header) : undefined;
  let body;
  try {
    body = text.length ? JSON.parse(text) : null;
  } catch {
    body = { __text: text };
  }
  return header ? { status: res.status, body, [header]: headerValue } : { status: res.status, body };
}

// The whole catalog as the side serves it, or null while it is not up.
async function everything(base) {
  try {
    const r = await get(base, '/api/catalog/entities');
    return r.status === 200 && Array.isArray(r.body) ? r.body : null;
  } catch {
    return null;
  }
}

const refOf = e =>
  `${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase();

// Waits until the side answers and its answer has not changed for `quiet` ms (Backstage ingests
// and stitches asynchronously), at least `min` entities. Returns the entities.
async function settled(name, base, child, { min = 1, quiet = 4000, timeout = 120000 } = {}) {
  const t0 = Date.now();
  let last = null;
  let since = Date.now();
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited (${child.exitCode}); its log:\n${child.log().slice(-4000)}`);
    }
    const all = await everything(base);
    const key = all && JSON.stringify(all.map(e => [refOf(e), e.metadata.etag]).sort());
    if (key !== last) {
      last = key;
      since = Date.now();
    } else if (all && all.length >= min && Date.now() - since >= quiet) {
      return all;
    }
    if (Date.now() - t0 > timeout) {
      throw new Error(`${name} did not settle within ${timeout} ms; its log:\n${child.log().slice(-4000)}`);
    }
    await sleep(250);
  }
}

// ---------------------------------------------------------------------------------------------
// Normalisation

function normalise(value, uids) {
  if (Array.isArray(value)) return value.map(v => normalise(v, uids));
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if (ignored.has(k)) out[k] = '<ignored>';
      else if (k === 'etag' && typeof v === 'string' && etags.has(v)) out[k] = etags.get(v) ? '<etag>' : `etag not by Backstage's formula: ${v}`;
      else if (k === 'uid' && typeof v === 'string' && uids.has(v)) out[k] = `<uid of ${uids.get(v)}>`;
      else if ((k === 'nextCursor' || k === 'prevCursor') && typeof v === 'string') out[k] = '<cursor>';
      else out[k] = normalise(v, uids);
    }
    return out;
  }
  if (typeof value === 'string' && uids.has(value)) return `<uid of ${uids.get(value)}>`;
  return value;
}

// JSON text with object keys sorted: the same value gives the same text on both sides.
function stable(v) {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map(k => `${JSON.stringify(k)}:${stable(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

// Backstage's etag formula (performStitching.cjs.js 112-121): the SHA-1 of the key-sorted JSON
// of the entity without its etag (uid included). Filled from each side's whole catalog at start:
// etag → whether it follows the formula.
const etags = new Map();
function learnEtags(entities) {
  for (const e of entities) {
    const copy = structuredClone(e);
    delete copy.metadata.etag;
    etags.set(e.metadata.etag, createHash('sha1').update(stable(copy)).digest('hex') === e.metadata.etag);
  }
}

const sortKey = v => (v && typeof v === 'object' && v.kind && v.metadata ? refOf(v) : stable(v));

function unordered(value) {
  if (Array.isArray(value)) return [...value].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
  if (value && Array.isArray(value.items)) return { ...value, items: unordered(value.items) };
  return value;
}

// Up to `max` paths where a and b differ.
function differences(a, b, path = '', out = [], max = 12) {
  if (out.length >= max) return out;
  if (isDeepStrictEqual(a, b)) return out;
  const bothObjects = a && b && typeof a === 'object' && typeof b === 'object';
  if (bothObjects && Array.isArray(a) === Array.isArray(b)) {
    if (Array.isArray(a) && a.length !== b.length) {
      out.push(`${path || '/'}: length ${a.length} (backstage) vs ${b.length} (greenroom)`);
      const sa = new Set(a.map(sortKey));
      const sb = new Set(b.map(sortKey));
      const onlyA = [...sa].filter(x => !sb.has(x)).slice(0, 5);
      const onlyB = [...sb].filter(x => !sa.has(x)).slice(0, 5);
      if (onlyA.length) out.push(`  only in backstage: ${onlyA.join(', ').slice(0, 400)}`);
      if (onlyB.length) out.push(`  only in greenroom: ${onlyB.join(', ').slice(0, 400)}`);
      return out;
    }
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) differences(a[k], b[k], `${path}/${k}`, out, max);
    return out;
  }
  const show = v => (v === undefined ? '(absent)' : JSON.stringify(v)).slice(0, 300);
  out.push(`${path || '/'}: ${show(a)} (backstage) vs ${show(b)} (greenroom)`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Cases

const json = body => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const enc = encodeURIComponent;

const cases = [];
const add = (name, path, opts = {}) => cases.push({ name, path, ...opts });

// GET /entities: filters, fields, order, paging.
const filters = [
  'kind=component',
  'kind=Component',
  'KIND=component',
  'kind=component,spec.type=service',
  'kind=component&filter=kind=api',
  'spec.type=service',
  'spec.type=SERVICE',
  'metadata.namespace=team-b',
  'metadata.tags=web',
  'metadata.tags=go',
  'spec.owner',
  'spec.lifecycle',
  'spec.dependsOn',
  'relations.ownedBy=group:default/payments',
  'relations.ownedby=group:default/payments',
  'relations.dependsOn=component:default/checkout',
  'relations.hasMember=user:default/alice',
  'relations.memberOf=group:default/payments',
  'metadata.annotations.backstage.io/kubernetes-id=checkout',
  'metadata.annotations.backstage.io/view-url',
  'metadata.labels.tier=frontend',
  'metadata.name=zeta',
  'metadata.name=Zeta',
  'metadata.name=checkout,metadata.name=cart',
  'kind=component,spec.type=service,spec.type=website',
  'spec.profile.email=alice@example.com',
  'spec.type=nonexistent',
  'kind=location',
  'metadata.links.url=https://example.com/checkout',
  'spec.definition',
];
for (const f of filters) add(`entities filter ${f}`, `/api/catalog/entities?filter=${f.split('&filter=').map(enc).join('&filter=')}`, { unordered: true });
add('entities (all)', '/api/catalog/entities', { unordered: true });
for (const fields of [
  'metadata.name',
  'kind,metadata.name',
  'metadata',
  'metadata.name,spec.owner,relations',
  'spec.profile.displayName',
  'metadata.annotations.backstage.io/view-url',
  'nonexistent.field',
  'kind,metadata.namespace,metadata.name&fields=spec.type',
]) {
  add(`entities fields ${fields}`, `/api/catalog/entities?filter=kind=component&fields=${fields}`, { unordered: true });
}
for (const order of [
  'asc:metadata.name',
  'desc:metadata.name',
  'asc:metadata.title',
  'desc:metadata.title',
  'asc:spec.type',
  'asc:spec.lifecycle',
  'asc:metadata.description',
  'asc:metadata.tags',
  'asc:kind&order=desc:metadata.name',
  'asc:metadata.namespace&order=asc:metadata.name',
]) {
  add(`entities order ${order}`, `/api/catalog/entities?filter=kind=component&order=${order.split('&order=').map(enc).join('&order=')}&fields=kind,metadata.namespace,metadata.name,metadata.title,spec.type`);
  add(`entities order ${order} (all kinds)`, `/api/catalog/entities?order=${order.split('&order=').map(enc).join('&order=')}&fields=kind,metadata.namespace,metadata.name`);
}
for (const [offset, limit] of [[0, 2], [2, 2], [0, 0], [5, 100], [100, 1]]) {
  add(`entities order+offset ${offset} limit ${limit}`, `/api/catalog/entities?order=asc:metadata.name&offset=${offset}&limit=${limit}&fields=kind,metadata.name`);
}
// Paged by a field few entities have: those come first, the others after in Backstage's random
// uid order, so only pages that end inside the first group, or hold everything, compare.
for (const [offset, limit] of [[0, 1], [0, 2], [0, 100]]) {
  add(`entities order title+offset ${offset} limit ${limit}`, `/api/catalog/entities?order=asc:metadata.title&offset=${offset}&limit=${limit}&fields=kind,metadata.name,metadata.title`);
}
add('entities paged 2 fields', '/api/catalog/entities?order=asc:kind&order=desc:metadata.name&limit=100&fields=kind,metadata.name');
add('entities paged desc', '/api/catalog/entities?order=desc:metadata.name&limit=4&fields=kind,metadata.name', { header: 'link' });
add('entities paged after', '/api/catalog/entities?limit=2&offset=3&fields=kind,metadata.name', { header: 'link' });
add('entities paged after cursor', `/api/catalog/entities?after=${enc(Buffer.from('{"limit":2,"offset":1}').toString('base64'))}&fields=kind,metadata.name&order=asc:metadata.name`, { header: 'link' });
add('entities paged bad after', '/api/catalog/entities?after=notjson');
for (const bad of [
  'filter=kind',
  'filter==x',
  'filter=kind=',
  'fields=',
  'order=up:metadata.name',
  'order=metadata.name',
  'offset=-1',
  'limit=abc',
  'limit=1.5',
  'unknown=1',
  'after=x',
]) {
  add(`entities bad ${bad}`, `/api/catalog/entities?${bad}`, { unordered: true });
}

// by-name, by-uid, ancestry.
for (const p of [
  'component/default/checkout',
  'Component/Default/Checkout',
  'component/default/zeta',
  'component/team-b/billing',
  'component/default/billing',
  'group/default/payments',
  'user/default/alice',
  'location/default/compat-root',
  'component/default/no-lifecycle',
  'widget/default/gadget',
  'resource/default/survivor',
  'component/default/nope',
]) {
  add(`by-name ${p}`, `/api/catalog/entities/by-name/${p}`);
  add(`ancestry ${p}`, `/api/catalog/entities/by-name/${p}/ancestry`);
}
for (const ref of ['component:default/checkout', 'group:default/payments', 'location:default/nested']) {
  add(`by-uid ${ref}`, '/api/catalog/entities/by-uid/{uid}', { uidOf: ref });
}
add('by-uid unknown', '/api/catalog/entities/by-uid/00000000-0000-4000-8000-000000000000');

// by-refs.
const refsBodies = [
  { entityRefs: ['component:default/checkout', 'Component:default/Zeta', 'component:cart', 'api:checkout-api'] },
  { entityRefs: ['component:default/checkout', 'component:default/checkout', 'nope:default/x'] },
  { entityRefs: ['checkout', 'default/checkout', 'component:', ':x', '', 'component:team-b/billing'] },
  { entityRefs: [] },
  { entityRefs: ['component:default/checkout'], fields: ['metadata.name', 'kind'] },
  { entityRefs: ['component:default/checkout', 'api:default/checkout-api'], fields: ['spec.type'] },
  { entityRefs: ['component:default/checkout', 'api:default/checkout-api'], filter: undefined },
  { entityRefs: [1, 'component:default/checkout'] },
  { entityRefs: 'component:default/checkout' },
  {},
  { entityRefs: [null] },
];
refsBodies.forEach((b, i) => add(`by-refs body ${i} ${JSON.stringify(b).slice(0, 80)}`, '/api/catalog/entities/by-refs', { init: json(b) }));
add('by-refs ?filter', `/api/catalog/entities/by-refs?filter=${enc('kind=api')}`, {
  init: json({ entityRefs: ['component:default/checkout', 'api:default/checkout-api'] }),
});
add('by-refs ?fields', '/api/catalog/entities/by-refs?fields=metadata.name', {
  init: json({ entityRefs: ['component:default/checkout', 'api:default/checkout-api'] }),
});
add('by-refs not json', '/api/catalog/entities/by-refs', {
  init: json('{'),
  deviation: 'JSON syntax errors are described in serde_json words, not V8 words',
});

// by-query: paging with cursors (followed), full text, ordering, totals.
const queries = [
  'limit=3&orderField=metadata.name,asc',
  'limit=3&orderField=metadata.name,desc',
  'limit=2&orderField=metadata.title,asc&fields=metadata.name,metadata.title',
  'limit=4&orderField=spec.type,asc&orderField=metadata.name,desc',
  'limit=3&filter=kind=component&orderField=metadata.name,asc',
  'limit=3&filter=kind=component&filter=kind=api&orderField=metadata.name,asc',
  'limit=5&fullTextFilterTerm=pay&orderField=metadata.name,asc',
  'limit=5&fullTextFilterTerm=PAY&fullTextFilterFields=metadata.name&orderField=metadata.name,asc',
  'limit=5&fullTextFilterTerm=token&fullTextFilterFields=metadata.description&orderField=metadata.name,asc',
  'limit=5&fullTextFilterTerm=web&fullTextFilterFields=metadata.tags&orderField=metadata.name,asc',
  'limit=5&fullTextFilterTerm=%20checkout%20&orderField=metadata.name,asc',
  'limit=2&filter=kind=component&fields=metadata.name&orderField=metadata.name,asc',
  'limit=0&orderField=metadata.name,asc',
  'orderField=metadata.name,asc&limit=100',
  'limit=3&offset=2&orderField=metadata.name,asc',
  'limit=3&orderField=metadata.name,up',
  'limit=x',
  'limit=3&filter=metadata.namespace=team-b&orderField=metadata.name,asc',
  'limit=3&orderField=spec.lifecycle,asc&orderField=metadata.name,asc&filter=kind=component',
  'limit=3&fullTextFilterTerm=zzzz',
];
for (const q of queries) add(`by-query ${q}`, `/api/catalog/entities/by-query?${q}`, { follow: true, unordered: !q.includes('orderField') });
add('by-query limit=3&orderField=metadata.name (no direction)', '/api/catalog/entities/by-query?limit=3&orderField=metadata.name', {
  deviation: "a direction-less orderField's next cursor works (Backstage's answers 400 Malformed cursor)",
});
add('by-query limit=3&orderField=metadata.name (first page)', '/api/catalog/entities/by-query?limit=3&orderField=metadata.name');
add('by-query cursor=notacursor', '/api/catalog/entities/by-query?cursor=notacursor', {
  deviation: 'a malformed cursor is described without echoing its decoded bytes',
});
add('by-query POST', '/api/catalog/entities/by-query', {
  init: json({ limit: 3, orderBy: [{ field: 'metadata.name', order: 'asc' }], query: { kind: 'component' } }),
  follow: true,
  order: ['metadata.name'],
});
add('by-query POST $all', '/api/catalog/entities/by-query', {
  init: json({ limit: 10, orderBy: [{ field: 'metadata.name', order: 'desc' }], query: { $all: [{ kind: 'component' }, { 'spec.lifecycle': 'production' }] } }),
  follow: true,
  order: ['metadata.name'],
});
add('by-query POST predicate operators', '/api/catalog/entities/by-query', {
  init: json({
    orderBy: [{ field: 'metadata.name', order: 'asc' }],
    fields: ['kind', 'metadata.name'],
    query: {
      $any: [
        { 'metadata.name': { $hasPrefix: 'CHECK' } },
        { 'spec.type': { $in: ['database', 'Website'] } },
        { relations: { $contains: { type: 'memberOf', targetRef: 'group:default/payments' } } },
        { $all: [{ kind: 'group' }, { 'spec.parent': { $exists: true } }] },
      ],
    },
  }),
  follow: true,
  order: ['metadata.name'],
});
add('by-query POST fullTextFilter', '/api/catalog/entities/by-query', {
  init: json({ orderBy: [{ field: 'metadata.name', order: 'asc' }], fullTextFilter: { term: 'PAY', fields: ['metadata.name', 'spec.owner'] }, fields: ['kind', 'metadata.name'] }),
  follow: true,
  order: ['metadata.name'],
});
add('by-query POST bad query', '/api/catalog/entities/by-query', { init: json({ query: { $foo: 1 } }) });
add('by-query POST bad orderBy', '/api/catalog/entities/by-query', { init: json({ orderBy: [{ field: 'metadata.name' }] }) });
add('by-query POST ignored keys', '/api/catalog/entities/by-query', {
  init: json({ filter: 'kind=api', orderFields: 'x', fields: ['metadata.name'] }),
  follow: true,
  unordered: true,
});
add('by-refs query', '/api/catalog/entities/by-refs', {
  init: json({ entityRefs: ['component:default/checkout', 'api:default/checkout-api', 'user:default/bob'], query: { kind: { $in: ['api', 'user'] } }, fields: ['metadata.name'] }),
});
add('locations by-entity', '/api/catalog/locations/by-entity/component/default/checkout');
add('locations by-entity unknown', '/api/catalog/locations/by-entity/component/default/nope');
add('facets case', '/api/catalog/entity-facets?facet=KIND&facet=metadata.name');
add('facets empty', '/api/catalog/entity-facets?facet=');
add('by-name with query', '/api/catalog/entities/by-name/component/default/checkout?x=1');
add('method not allowed', '/api/catalog/entities', { init: { method: 'DELETE' } });
add('by-query POST $any/$not', '/api/catalog/entities/by-query', {
  init: json({ limit: 10, orderBy: [{ field: 'metadata.name', order: 'asc' }], query: { $any: [{ kind: 'api' }, { $not: { kind: 'component' } }] } }),
  follow: true,
  order: ['metadata.name'],
});

// Facets.
for (const f of [
  'facet=kind',
  'facet=spec.type',
  'facet=metadata.tags',
  'facet=relations.ownedBy',
  'facet=spec.owner',
  'facet=metadata.namespace&facet=spec.lifecycle',
  'facet=kind&filter=metadata.namespace=team-b',
  'facet=metadata.annotations.backstage.io/kubernetes-id',
  'facet=nonexistent',
  '',
]) {
  add(`facets ${f}`, `/api/catalog/entity-facets?${f}`);
}

// Locations.
add('locations', '/api/catalog/locations');
add('location unknown', '/api/catalog/locations/00000000-0000-4000-8000-000000000000');

// validate-entity.
const good = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'v' },
  spec: { type: 'service', lifecycle: 'production', owner: 'payments' },
};
const validations = [
  { entity: good, location: 'url:https://example.com/catalog-info.yaml' },
  { entity: good, location: 'file:/tmp/x.yaml' },
  { entity: good, location: 'nocolon' },
  { entity: good },
  { location: 'url:https://example.com/x.yaml' },
  { entity: { ...good, spec: { type: 'service' } }, location: 'url:https://example.com/x.yaml' },
  { entity: { ...good, kind: 'Widget', apiVersion: 'example.com/v1' }, location: 'url:https://example.com/x.yaml' },
  { entity: { ...good, metadata: { name: 'bad name!' } }, location: 'url:https://example.com/x.yaml' },
  // Not here: a Location entity, whose targets Backstage fetches (it answers 400 "Unable to read
  // url, …" when the host is not in backend.reading.allow) and Greenroom does not (README,
  // deliberate deviations).
  { entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Location', metadata: { name: 'l' }, spec: { type: 'file', target: './x.yaml' } }, location: 'url:https://example.com/x.yaml' },
  { entity: 'x', location: 'url:https://example.com/x.yaml' },
  { entity: { ...good, apiVersion: 'backstage.io/v1beta9' }, location: 'url:https://example.com/x.yaml' },
];
validations.forEach((b, i) =>
  add(`validate-entity ${i} ${JSON.stringify(b).slice(0, 90)}`, '/api/catalog/validate-entity', {
    init: json(b),
  }),
);
add('validate-entity wrong types', '/api/catalog/validate-entity', {
  init: json({ entity: { ...good, spec: { type: 1, lifecycle: 'production', owner: 'x' } }, location: 'url:https://example.com/x.yaml' }),
});
add('validate-entity bad tag', '/api/catalog/validate-entity', {
  init: json({ entity: { ...good, metadata: { name: 'v', tags: ['ok', 'Bad Tag'] } }, location: 'url:https://example.com/x.yaml' }),
});
add('validate-entity foreign root field', '/api/catalog/validate-entity', {
  init: json({ entity: { ...good, extra: 1 }, location: 'url:https://example.com/x.yaml' }),
});
add('validate-entity no kind', '/api/catalog/validate-entity', {
  init: json({ entity: { apiVersion: 'backstage.io/v1alpha1', metadata: { name: 'v' } }, location: 'url:https://example.com/x.yaml' }),
});
add('validate-entity no spec', '/api/catalog/validate-entity', {
  init: json({ entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'v' } }, location: 'url:https://example.com/x.yaml' }),
});
add('validate-entity lower-case kind', '/api/catalog/validate-entity', {
  init: json({ entity: { ...good, kind: 'component' }, location: 'url:https://example.com/x.yaml' }),
});

// Registering locations: only cases that change nothing (dry runs, refusals, analysis), so the
// catalog stays the same for every case. files/ is served on COMPAT_FILES_PORT.
const reg = (name, body, query = '') =>
  add(`register ${name}`, `/api/catalog/locations${query}`, { init: json(body) });
reg('dry run', { type: 'url', target: `${files}/repo/catalog-info.yaml` }, '?dryRun=true');
reg('dry run nested', { type: 'url', target: `${files}/multi/catalog-info.yaml` }, '?dryRun=true');
reg('dry run 404', { type: 'url', target: `${files}/repo/missing.yaml` }, '?dryRun=true');
reg('dry run type file', { type: 'file', target: '/tmp/x.yaml' }, '?dryRun=true');
reg('type file', { type: 'file', target: '/tmp/x.yaml' });
reg('no target', { type: 'url' });
reg('no type', { target: `${files}/repo/catalog-info.yaml` });
reg('empty body', {});
reg('array body', []);
reg('number type', { type: 1, target: 'x' });
reg('extra key', { type: 'url', target: `${files}/repo/catalog-info.yaml`, extra: 1 });
reg('bad onConflict', { type: 'url', target: `${files}/repo/catalog-info.yaml` }, '?onConflict=foo');
reg('unknown parameter', { type: 'url', target: `${files}/repo/catalog-info.yaml` }, '?x=1');
reg('empty dryRun', { type: 'url', target: `${files}/repo/catalog-info.yaml` }, '?dryRun=');
add('register no content type', '/api/catalog/locations', { init: { method: 'POST', body: '{}' } });
add('register not a URL (deviation: refused before reading)', '/api/catalog/locations?dryRun=true', {
  init: json({ type: 'url', target: 'x' }),
  deviation: true,
});
add('unregister unknown', '/api/catalog/locations/00000000-0000-4000-8000-000000000000', { init: { method: 'DELETE' } });
add('delete entity unknown uid', '/api/catalog/entities/by-uid/00000000-0000-4000-8000-000000000000', { init: { method: 'DELETE' } });
const analyze = (name, body) => add(`analyze ${name}`, '/api/catalog/analyze-location', { init: json(body) });
analyze('file url', { location: { type: 'url', target: `${files}/repo/catalog-info.yaml` } });
analyze('folder url', { location: { type: 'url', target: `${files}/repo` } });
analyze('github', { location: { type: 'url', target: 'https://github.com/acme/my-repo/blob/main/catalog-info.yaml' } });
analyze('gitlab', { location: { type: 'url', target: 'https://gitlab.com/acme/sub/my-repo' } });
analyze('no location', {});
analyze('location not object', { location: 'x' });
analyze('no target', { location: { type: 'url' } });
analyze('extra key', { location: { type: 'url', target: `${files}/repo`, presence: 'optional' } });
const refresh = (name, body) => add(`refresh ${name}`, '/api/catalog/refresh', { init: json(body) });
refresh('unknown', { entityRef: 'component:default/nope' });
refresh('unparsed', { entityRef: 'nope' });
refresh('no ref', {});
refresh('ref not string', { entityRef: 1 });
refresh('extra key', { entityRef: 'component:default/nope', extra: 1 });

// Unknown routes under the catalog.
add('unknown route', '/api/catalog/nope');
add('by-name missing part', '/api/catalog/entities/by-name/component/default');

// ---------------------------------------------------------------------------------------------

async function answer(side, base, c, uidsByRef) {
  let path = c.path;
  if (c.uidOf) path = path.replace('{uid}', uidsByRef[side].get(c.uidOf) ?? 'missing');
  const first = await get(base, path, c.init, c.header);
  if (!c.follow) return first;
  // Follow nextCursor to the end (at most 20 pages).
  const pages = [first];
  let cur = first;
  for (let i = 0; i < 20 && cur.status === 200 && cur.body?.pageInfo?.nextCursor; i++) {
    cur = await get(base, `/api/catalog/entities/by-query?cursor=${enc(cur.body.pageInfo.nextCursor)}`);
    pages.push(cur);
  }
  // And one step back from the last page, when it offers one.
  let back = null;
  if (cur.status === 200 && cur.body?.pageInfo?.prevCursor && pages.length > 1) {
    back = await get(base, `/api/catalog/entities/by-query?cursor=${enc(cur.body.pageInfo.prevCursor)}`);
  }
  return { status: first.status, pages, back };
}

// A followed by-query as comparable data. Backstage breaks ties of its (first) order field by
// random entity ids, so where a page boundary falls inside a run of equal values the pages hold
// different members of that run; what must agree is each page's shape (status, size, totals,
// which cursors it offers), the concatenation of the pages, and the page one step back.
function pagesOf(c, r, uids) {
  const fields = orderFields(c);
  const order = items => (c.unordered ? unordered(items) : sortTies(items, fields));
  const shape = p =>
    p.status === 200 && p.body && Array.isArray(p.body.items)
      ? {
          status: p.status,
          count: p.body.items.length,
          totalItems: p.body.totalItems,
          pageInfo: Object.keys(p.body.pageInfo ?? {}).sort(),
        }
      : { status: p.status, body: normalise(p.body, uids) };
  const items = r.pages.flatMap(p => (p.status === 200 && Array.isArray(p.body?.items) ? p.body.items : []));
  return {
    status: r.status,
    body: {
      pages: r.pages.map(shape),
      items: order(normalise(items, uids)),
      // The page one step back holds the `limit` rows before the last page: which members of a
      // run of equal values it gets is Backstage's random choice, so only their values compare.
      back: r.back && { ...shape(r.back), values: valuesOf(r.back.body?.items ?? [], fields, uids) },
    },
  };
}

// The order fields of a case: `order=asc:f` (GET /entities) or `orderField=f,asc` (by-query).
// The order fields that decide a case's order: `order=asc:f` (GET /entities) or
// `orderField=f,asc` (by-query), or the case's own list (POST bodies). Backstage honours only the
// first one, except on a paged GET /entities (limit, offset or after given), which honours all.
function orderFields(c) {
  if (c.order) return c.order;
  const q = new URLSearchParams(c.path.split('?')[1] ?? '');
  const fields = [
    ...q.getAll('order').map(o => o.split(':').slice(1).join(':')),
    ...q.getAll('orderField').map(o => o.split(',')[0]),
  ];
  const paged = c.path.startsWith('/api/catalog/entities?') && ['limit', 'offset', 'after'].some(k => q.has(k));
  return paged ? fields : fields.slice(0, 1);
}

// The items as their (lower-cased) order values, or as a set when the case has no order.
function valuesOf(items, fields, uids) {
  if (!fields.length) return unordered(normalise(items, uids));
  return items.map(item => fields.map(f => fieldValue(item, f)));
}

function fieldValue(item, field) {
  let v = item;
  for (const part of field.split('.')) v = v == null ? undefined : v[part];
  return typeof v === 'string' ? v.toLowerCase() : JSON.stringify(v);
}

// Backstage breaks ties between equal order values by its random entity ids, so within a run of
// items whose order values are equal (compared as Backstage does: lower-cased), the order is
// not comparable: such runs are sorted by their (key-sorted) JSON text on both sides.
function sortTies(items, fields) {
  if (!Array.isArray(items) || !fields.length) return items;
  const key = item => JSON.stringify(fields.map(f => fieldValue(item, f)));
  const out = [];
  for (let i = 0; i < items.length; ) {
    let j = i + 1;
    while (j < items.length && key(items[j]) === key(items[i])) j++;
    out.push(...items.slice(i, j).sort((a, b) => (stable(a) < stable(b) ? -1 : 1)));
    i = j;
  }
  return out;
}

// What must still agree where Greenroom deviates on purpose (README, "Deliberate deviations"):
// the status and, for errors, the error's name and the request.
function loose(r) {
  const first = r.pages ? r.pages[0] : r;
  const b = first.body;
  return {
    status: first.status,
    body: b && b.error ? { error: { name: b.error.name }, request: b.request, response: b.response } : '<not compared>',
  };
}

function prepare(c, r, uids) {
  if (c.deviation) return loose(r);
  if (c.follow) return pagesOf(c, r, uids);
  if (c.deviation) return loose(r);
  let body = normalise(r.body, uids);
  const fields = orderFields(c);
  if (c.unordered) body = unordered(body);
  else if (fields.length) body = Array.isArray(body) ? sortTies(body, fields) : body;
  if (c.header) return { status: r.status, body, [c.header]: r[c.header] ?? null };
  if (c.facetsUnordered && body?.facets) {
    const f = {};
    for (const [k, v] of Object.entries(body.facets)) f[k] = [...v].sort((a, b) => (a.value < b.value ? -1 : 1));
    body = { ...body, facets: f };
  }
  return { status: r.status, body };
}

/** Serves files/ (the location-registration cases' catalog files). */
function serveFiles() {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path.includes('..')) return res.writeHead(404).end();
    try {
      const body = readFileSync(join(here, 'files', path));
      res.writeHead(200, { 'content-type': 'text/yaml' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  server.listen(filesPort, '127.0.0.1');
  return server;
}

async function main() {
  const fileServer = serveFiles();
  const bs = start('backstage', process.execPath, ['backstage.mjs', '--config', 'app-config.backstage.yaml'], {
    COMPAT_BACKSTAGE_PORT: String(bsPort),
    COMPAT_FILES_PORT: String(filesPort),
    NODE_ENV: 'production',
    NODE_OPTIONS: '--no-deprecation',
  });
  const gr = start('greenroom', greenroomBin, ['serve', '--config', 'app-config.greenroom.yaml'], {
    GREENROOM_SITE_ROOT: process.env.GREENROOM_SITE_ROOT ?? join(root, 'target/site'),
    COMPAT_GREENROOM_PORT: String(grPort),
    COMPAT_FILES_PORT: String(filesPort),
  });
  const grAll = await settled('greenroom', sides.greenroom, gr, { quiet: 1000 });
  const bsAll = await settled('backstage', sides.backstage, bs, { min: grAll.length });
  learnEtags(bsAll);
  learnEtags(grAll);
  const uids = new Map();
  const uidsByRef = { backstage: new Map(), greenroom: new Map() };
  for (const [side, all] of [['backstage', bsAll], ['greenroom', grAll]]) {
    for (const e of all) {
      uids.set(e.metadata.uid, refOf(e));
      uidsByRef[side].set(refOf(e), e.metadata.uid);
    }
  }
  const report = [];
  let failed = 0;
  let ran = 0;
  let deviations = 0;
  for (const c of cases) {
    if (only && !c.name.includes(only)) continue;
    ran++;
    const [a, b] = await Promise.all([
      answer('backstage', sides.backstage, c, uidsByRef),
      answer('greenroom', sides.greenroom, c, uidsByRef),
    ]);
    const pa = prepare(c, a, uids);
    const pb = prepare(c, b, uids);
    const diff = differences(pa, pb);
    report.push({ name: c.name, path: c.path, same: diff.length === 0, deviation: c.deviation, backstage: pa, greenroom: pb });
    if (c.deviation) deviations++;
    if (diff.length) {
      failed++;
      console.log(`DIFF ${c.name}\n  ${diff.join('\n  ')}`);
    }
  }
  writeFileSync(join(root, 'target/compat-report.json'), JSON.stringify(report, null, 1));
  if (ignored.size) console.log(`compat: ignoring ${[...ignored].join(', ')}: not a pass`);
  console.log(`compat: ${ran - failed} same (${deviations} of them documented deviations, compared by status and error name), ${failed} different (of ${ran} cases; ${bsAll.length} entities); answers in target/compat-report.json`);
  if (flag('--keep')) {
    console.log(`backstage on ${sides.backstage}, greenroom on ${sides.greenroom}; Ctrl-C stops them`);
    await new Promise(() => {});
  }
  stopAll();
  fileServer.close();
  process.exit(failed ? 1 : 0);
}

main().catch(e => {
  console.error(e.message ?? e);
  stopAll();
  process.exit(2);
});
