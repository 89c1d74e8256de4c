// node-oidc-provider 8.x configured like the emulator's fixture client, for the login benchmark.
// Usage: node server.js PORT   (prints "listening on <issuer>" once ready)
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 0);
const users = {
  alice: { email: 'alice@example.com', groups: ['/acme/admins'] },
};

const configuration = {
  clients: [{
    client_id: 'acme-app',
    client_secret: 'acme-app-secret',
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { methods: ['S256'], required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['ssoproof-bench-cookie-key'] },
  async findAccount(ctx, id) {
    const user = users[id] || { email: `${id}@example.com`, groups: [] };
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: user.email, email_verified: true, name: id, groups: user.groups };
      },
    };
  },
};

const provider = new Provider(`http://127.0.0.1:${port}`, configuration);
provider.proxy = false;
const server = provider.listen(port, '127.0.0.1', () => {
  const actual = server.address().port;
  console.log(`listening on http://127.0.0.1:${actual}`);
});
