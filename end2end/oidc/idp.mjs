// A real OpenID provider for the sign-in tests: the `oidc-provider` package (the certified
// implementation behind many production IdPs), with its development login and consent pages.
// Accounts are people of the bundled catalog (catalog/org.yaml); any password is accepted.
//
//   node oidc/idp.mjs   (GREENROOM_E2E_IDP_PORT, GREENROOM_E2E_OIDC_URL pick the addresses)
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

const provider = new Provider(issuer, {
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
});
provider.on('server_error', (_ctx, err) => console.error('idp server_error', err));

http.createServer(provider.callback()).listen(port, '127.0.0.1', () => {
  console.log(`idp listening on ${issuer}`);
});
