// The real Backstage backend with only the catalog plugin: what Greenroom is compared against.
// Started by run.mjs with app-config.backstage.yaml; not a test double.
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();
backend.add(import('@backstage/plugin-catalog-backend'));
await backend.start();
