// The pages the demo OpenID Provider ("Demo ID") shows: sign-in, sign-out confirmation, signed-out,
// errors. They replace oidc-provider's development pages so the flow reads clearly in a browser.
import { decodeJwt } from 'jose'
import { esc, page } from './html.mjs'

export const ACCENT = '#4a3aa8'
const TAG = 'the example OpenID Provider'

/** The sign-in form of an interaction, prefilled with the demo user. */
export function loginPage({ uid, clientName, email, error }) {
  const flash = error ? `<div class="flash error">${esc(error)}</div>` : ''
  return page({
    title: 'Demo ID',
    tag: TAG,
    accent: ACCENT,
    body: `${flash}<div class="card">
<h2>Sign in to ${esc(clientName)}</h2>
<form method="post" action="/interaction/${esc(uid)}/login">
<label for="email">Email</label>
<input id="email" type="email" name="email" value="${esc(email)}" required autocomplete="username">
<button type="submit" id="sign-in">Sign in</button>
</form>
<p class="note">Demo account: no password. Signing in here signs you in to every app of this provider.</p>
</div>`,
  })
}

/**
 * `features.rpInitiatedLogout.logoutSource`. RP-Initiated Logout §2 says the OP SHOULD ask before
 * ending its own session and MUST ask when there is no `id_token_hint` or it does not match the
 * session. Here the question is skipped (the form submits itself) only when the hint, already
 * validated by oidc-provider, names the signed-in user.
 */
export async function logoutSource(ctx, form) {
  const hint = ctx.oidc.params.id_token_hint
  const accountId = ctx.oidc.session?.accountId
  const matches = typeof hint === 'string' && accountId !== undefined && decodeJwt(hint).sub === accountId
  const appName = ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId
  const from = appName ? ` (asked by ${esc(appName)})` : ''
  ctx.type = 'html'
  ctx.body = page({
    title: 'Demo ID',
    tag: TAG,
    accent: ACCENT,
    body: `<div class="card">
<h2>${matches ? 'Signing you out of Demo ID…' : 'Sign out of Demo ID?'}</h2>
<p>Ending your provider session${from} also signs you out of every app that used it.</p>
${form}
<div class="actions">
<button type="submit" form="op.logoutForm" name="logout" value="yes" id="logout-yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>
</div>
</div>`,
    script: matches ? '<script>document.getElementById("logout-yes").click()</script>' : '',
  })
}

/** `features.rpInitiatedLogout.postLogoutSuccessSource`: shown when no return URL was given. */
export async function postLogoutSuccessSource(ctx) {
  ctx.type = 'html'
  ctx.body = page({
    title: 'Demo ID',
    tag: TAG,
    accent: ACCENT,
    body: '<div class="card"><h2>You are signed out of Demo ID</h2></div>',
  })
}

/** `renderError`: the OP's error page (bad request, unknown client, expired interaction...). */
export async function renderError(ctx, out) {
  ctx.type = 'html'
  ctx.body = page({
    title: 'Demo ID',
    tag: TAG,
    accent: ACCENT,
    body: `<div class="card"><h2>Something went wrong</h2>
<dl><dt>error</dt><dd>${esc(out.error)}</dd><dt>description</dt><dd>${esc(out.error_description)}</dd></dl></div>`,
  })
}

/** The OP's home page: what it is, the apps that sign in with it, and its discovery document. */
export function opHomePage({ issuer, demoEmail, apps }) {
  const links = apps
    .map((a) => `<li><a href="${esc(a.url)}" class="app-link">${esc(a.name)}</a></li>`)
    .join('')
  return page({
    title: 'Demo ID',
    tag: TAG,
    accent: ACCENT,
    body: `<div class="card"><h2>A real OpenID Provider, running locally</h2>
<p>Built with <code>oidc-provider</code>. Demo user: <b>${esc(demoEmail)}</b>.</p>
<p>Apps that sign in with Demo ID:</p>
<ul id="apps">${links}</ul>
<p class="note"><a href="${esc(issuer)}/.well-known/openid-configuration">Discovery document</a></p></div>`,
  })
}
