// An independent relying party for the end-to-end test: openid-client (a certified OpenID
// Connect client) signs a person in through acs_auth with the authorization code flow + PKCE,
// validates the ID token, calls userinfo, refreshes, introspects, revokes, and ends the
// session; it also receives back-channel logout tokens and checks them with jose.
// Settings from the environment: ISSUER, CLIENT_ID, CLIENT_SECRET, PORT.
import http from "node:http";
import * as client from "openid-client";
import * as jose from "jose";

const { ISSUER, CLIENT_ID, CLIENT_SECRET, PORT } = process.env;
const BASE = `http://127.0.0.1:${PORT}`;
const REDIRECT = `${BASE}/callback`;
const EVENT = "http://schemas.openid.net/event/backchannel-logout";

const config = await client.discovery(new URL(ISSUER), CLIENT_ID, CLIENT_SECRET, undefined, {
  execute: [client.allowInsecureRequests], // loopback http in the test only
});
const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
const pending = new Map(); // state -> { verifier, nonce }
const results = { logins: [], backchannel: [] };

function send(res, status, body, headers = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function login(res) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  pending.set(state, { verifier, nonce });
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: "openid email profile programs",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  res.writeHead(302, { Location: url.href });
  res.end();
}

async function callback(req, res) {
  const url = new URL(req.url, BASE);
  const checks = pending.get(url.searchParams.get("state"));
  if (!checks) return send(res, 400, { error: "unknown state" });
  const tokens = await client.authorizationCodeGrant(config, url, {
    pkceCodeVerifier: checks.verifier,
    expectedState: url.searchParams.get("state"),
    expectedNonce: checks.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims(); // signature, iss, aud, exp, nonce checked by openid-client
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  const active = await client.tokenIntrospection(config, refreshed.access_token);
  const oldRefresh = await client.tokenIntrospection(config, tokens.refresh_token);
  await client.tokenRevocation(config, refreshed.access_token);
  const revoked = await client.tokenIntrospection(config, refreshed.access_token);
  const result = {
    claims,
    userinfo,
    refreshed: Boolean(refreshed.access_token && refreshed.refresh_token),
    rotated: refreshed.refresh_token !== tokens.refresh_token,
    introspected: { active: active.active, sub: active.sub, client_id: active.client_id },
    old_refresh_active: oldRefresh.active,
    revoked_active: revoked.active,
    id_token: tokens.id_token,
    iss_param: url.searchParams.get("iss"),
  };
  results.logins.push(result);
  send(res, 200, { ok: true, sub: claims.sub, email: claims.email });
}

function endSession(res) {
  const last = results.logins.at(-1);
  const url = client.buildEndSessionUrl(config, {
    id_token_hint: last.id_token,
    post_logout_redirect_uri: `${BASE}/bye`,
    state: "bye-state",
  });
  res.writeHead(302, { Location: url.href });
  res.end();
}

async function backchannel(req, res) {
  let body = "";
  for await (const chunk of req) body += chunk;
  const token = new URLSearchParams(body).get("logout_token");
  try {
    const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
      issuer: config.serverMetadata().issuer,
      audience: CLIENT_ID,
      typ: "logout+jwt",
    });
    if (!payload.events || !(EVENT in payload.events) || "nonce" in payload) {
      throw new Error("not a logout token");
    }
    results.backchannel.push({ valid: true, sub: payload.sub, sid: payload.sid, alg: protectedHeader.alg });
    send(res, 200, {});
  } catch (error) {
    results.backchannel.push({ valid: false, error: String(error) });
    send(res, 400, { error: "invalid_request" });
  }
}

http
  .createServer(async (req, res) => {
    const path = new URL(req.url, BASE).pathname;
    try {
      if (path === "/login") return await login(res);
      if (path === "/callback") return await callback(req, res);
      if (path === "/logout") return endSession(res);
      if (path === "/bye") return send(res, 200, { bye: true, state: new URL(req.url, BASE).searchParams.get("state") });
      if (path === "/backchannel" && req.method === "POST") return await backchannel(req, res);
      if (path === "/results") return send(res, 200, results);
      send(res, 404, { error: "not found" });
    } catch (error) {
      send(res, 500, { error: String(error), code: error.code, cause: String(error.cause ?? "") });
    }
  })
  .listen(Number(PORT), "127.0.0.1", () => console.log(`rp listening on ${BASE}`));
