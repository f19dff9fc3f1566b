// A real OpenID provider for the sign-in tests: the `oidc-provider` package (the certified
// implementation behind many production IdPs), with its development login and consent pages.
// Accounts are people of the bundled catalog (catalog/org.yaml); any password is accepted.
//
//   node oidc/idp.mjs   (GREENROOM_E2E_IDP_PORT, GREENROOM_E2E_OIDC_URL pick the addresses)
//
// It signs ID tokens with an RSA key of its own; `POST /__test/rotate-keys` replaces the key
// (and the provider, so sign-ins in progress start over), as a provider rotating its keys does.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.GREENROOM_E2E_IDP_PORT ?? 7109);
const portal = process.env.GREENROOM_E2E_OIDC_URL ?? 'http://127.0.0.1:7108';
const issuer = `http://127.0.0.1:${port}`;

const accounts = {
  'ada-okafor': { email: 'ada.okafor@acme.example', name: 'Ada Okafor' },
  'diego-ramirez': { email: 'diego.ramirez@acme.example', name: 'Diego Ramírez' },
  // Not in the catalog: sign-in must be refused with a clear message.
  mallory: { email: 'mallory@evil.example', name: 'Mallory' },
};

/** A fresh RS256 signing key, as a private JWK with a key id of its own. */
function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };
}

const configuration = {
  clients: [
    {
      client_id: 'greenroom-e2e',
      client_secret: 'greenroom-e2e-client-secret',
      redirect_uris: [`${portal}/api/auth/oidc/handler/frame`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['greenroom-e2e-idp-cookie-key'] },
  async findAccount(_ctx, id) {
    const a = accounts[id];
    if (!a) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: a.email, email_verified: true, name: a.name, preferred_username: id };
      },
    };
  },
};

function start() {
  const key = signingKey();
  const provider = new Provider(issuer, { ...configuration, jwks: { keys: [key] } });
  provider.on('server_error', (_ctx, err) => console.error('idp server_error', err));
  console.log(`idp signing with key ${key.kid}`);
  return { kid: key.kid, handle: provider.callback() };
}

let current = start();

http
  .createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/__test/rotate-keys') {
      current = start();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kid: current.kid }));
      return;
    }
    current.handle(req, res);
  })
  .listen(port, '127.0.0.1', () => {
    console.log(`idp listening on ${issuer}`);
  });
