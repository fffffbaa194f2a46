// Pages of the two example apps (Notes, Calendar).
import { esc, page } from './html.mjs'

// What `logoutStateOf` said about the `state` Demo ID brought back ('missing' needs no word).
const RETURNS = {
  valid: 'You are signed out of this app and of Demo ID.',
  used: 'You are already signed out: this sign-out finished before (a reload, or Back).',
  unknown:
    'This page was opened with a sign-out response this browser was not waiting for ' +
    '(started elsewhere, or more than ten minutes old), so it changed nothing.',
}

function flash(returned) {
  const text = RETURNS[returned]
  return text ? `<div class="flash" id="logout-return" data-state="${esc(returned)}">${esc(text)}</div>` : ''
}

/** Home page when nobody is signed in; `returned` is what `logoutStateOf` said, if it was asked. */
export function signedOutPage(app, returned) {
  return page({
    title: app.name,
    tag: 'example app',
    accent: app.accent,
    body: `${flash(returned)}<div class="card" id="signed-out">
<h2>You are signed out</h2>
<p>${esc(app.name)} signs you in through Demo ID, the example's OpenID Provider.</p>
<div class="actions"><a class="button" id="sign-in" href="/login">Sign in</a></div>
</div>`,
  })
}

/** Home page of a signed-in user: who, which provider session, and the two logout actions. */
export function signedInPage(app, { user, sid, returned }) {
  const items = app.items.map((item) => `<li>${esc(item)}</li>`).join('')
  return page({
    title: app.name,
    tag: 'example app',
    accent: app.accent,
    body: `${flash(returned)}<div class="card" id="signed-in">
<h2>Signed in as ${esc(user.name ?? user.email)}</h2>
<dl>
<dt>email</dt><dd id="user-email">${esc(user.email)}</dd>
<dt>sub</dt><dd>${esc(user.sub)}</dd>
<dt>sid</dt><dd id="sid">${esc(sid ?? '(none in the access token)')}</dd>
</dl>
<p class="note" id="sid-note">${esc(app.peer.name)} shows another <code>sid</code> for this same
sign-in: Demo ID (oidc-provider) issues each app its own, and each app's logout token carries its own.</p>
<div class="actions">
<form method="post" action="/logout"><button type="submit" id="logout">Log out</button></form>
<form method="post" action="/logout-everywhere">
<button type="submit" class="secondary" id="logout-everywhere">Log out everywhere</button>
</form>
</div>
<p class="note"><b>Log out</b> ends this session, the Demo ID session, and (through back-channel logout)
your session in ${esc(app.peer.name)}: the next sign-in asks again. <b>Log out everywhere</b> does the
same and also ends your ${esc(app.name)} and ${esc(app.peer.name)} sessions in every other browser
(the two apps share one sso-logout store, and ${esc(app.peer.name)} destroys its own at once; there,
Demo ID still knows you, so signing in again needs no form).</p>
</div>
<div class="card"><h2>${esc(app.itemsTitle)}</h2><ul>${items}</ul>
<p><a href="${esc(app.peer.url)}" id="peer">Open ${esc(app.peer.name)} →</a></p></div>`,
  })
}

/** An error page; `message` is shown escaped. */
export function errorPage(app, message) {
  return page({
    title: app.name,
    tag: 'example app',
    accent: app.accent,
    body: `<div class="card"><h2>Something went wrong</h2><p>${esc(message)}</p>
<p><a href="/">Back to ${esc(app.name)}</a></p></div>`,
  })
}
