// Pages of the two example apps (Notes, Calendar).
import { esc, page } from './html.mjs'

function flash(query) {
  if (query.stateOk === true) return `<div class="flash">You are signed out of this app and of Demo ID.</div>`
  if (query.stateOk === false)
    return `<div class="flash error">Unexpected logout response (state mismatch).</div>`
  if (query.revoked !== undefined) {
    const n = Number.parseInt(String(query.revoked), 10) || 0
    return `<div class="flash">"Log out everywhere" ended ${n} session${n === 1 ? '' : 's'} of this app.</div>`
  }
  return ''
}

/** Home page when nobody is signed in. */
export function signedOutPage(app, query) {
  return page({
    title: app.name,
    tag: 'example app',
    accent: app.accent,
    body: `${flash(query)}<div class="card" id="signed-out">
<h2>You are signed out</h2>
<p>${esc(app.name)} signs you in through Demo ID, the example's OpenID Provider.</p>
<div class="actions"><a class="button" id="sign-in" href="/login">Sign in</a></div>
</div>`,
  })
}

/** Home page of a signed-in user: who, which provider session, and the two logout actions. */
export function signedInPage(app, { user, sid, csrf }) {
  const items = app.items.map((item) => `<li>${esc(item)}</li>`).join('')
  return page({
    title: app.name,
    tag: 'example app',
    accent: app.accent,
    body: `<div class="card" id="signed-in">
<h2>Signed in as ${esc(user.name ?? user.email)}</h2>
<dl>
<dt>email</dt><dd id="user-email">${esc(user.email)}</dd>
<dt>sub</dt><dd>${esc(user.sub)}</dd>
<dt>sid</dt><dd id="sid">${esc(sid ?? '(none in the access token)')}</dd>
</dl>
<div class="actions">
<form method="post" action="/logout"><button type="submit" id="logout">Log out</button></form>
<form method="post" action="/logout-everywhere">
<input type="hidden" name="csrf" value="${esc(csrf)}">
<button type="submit" class="secondary" id="logout-everywhere">Log out everywhere</button>
</form>
</div>
<p class="note"><b>Log out</b> ends this session, the Demo ID session, and (through back-channel logout)
your session in ${esc(app.peer.name)}. <b>Log out everywhere</b> ends every ${esc(app.name)} session of
this user, in every browser.</p>
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
