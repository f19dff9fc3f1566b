import { expect, test } from '@playwright/test';

// The portal as `scripts/dev.sh` runs it: app-config.demo.yaml pointing at the bundled demo
// clusters (two serviceAccount clusters over verified TLS, and the article's EKS cluster reached
// with an EKS token signed for the fake AWS account and a role assumed through its STS).

type Item = {
  cluster: { name: string };
  errors: unknown[];
  resources: { type: string; resources: { metadata: { name: string; namespace: string } }[] }[];
};

const pods = (item: Item) =>
  item.resources.filter((r) => r.type === 'pods').flatMap((r) => r.resources.map((p) => p.metadata));

test('the Kubernetes REST API lists the configured clusters without credentials', async ({ request }) => {
  const response = await request.get('/api/kubernetes/clusters');
  expect(response.status()).toBe(200);
  const body = await response.json();
  expect(body.items).toEqual([
    { name: 'greenroom-demo', title: 'Greenroom demo (EU)', authProvider: 'serviceAccount' },
    { name: 'demo-us', title: 'Greenroom demo (US)', authProvider: 'serviceAccount' },
    { name: 'backstage-tutorial-cluster', authProvider: 'aws' },
  ]);
});

test("the article's example component finds its pods on the serviceAccount and the EKS cluster", async ({ request }) => {
  const response = await request.post('/api/kubernetes/services/example1', {
    data: { entity: { kind: 'Component', metadata: { name: 'example1' } } },
  });
  expect(response.status()).toBe(200);
  const items: Item[] = (await response.json()).items;
  const byName = Object.fromEntries(items.map((i) => [i.cluster.name, i]));
  expect(Object.keys(byName).sort()).toEqual(['backstage-tutorial-cluster', 'greenroom-demo']);
  for (const [cluster, count] of [['greenroom-demo', 1], ['backstage-tutorial-cluster', 2]] as const) {
    expect(byName[cluster].errors).toEqual([]);
    const found = pods(byName[cluster]);
    expect(found).toHaveLength(count);
    for (const p of found) {
      expect(p.namespace).toBe('backstage');
      expect(p.name).toMatch(/^backstage-/);
    }
  }
});
