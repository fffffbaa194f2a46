// oidcc-client-test-session-management (OIDCCClientTestSessionManagement) is excepted: it passes
// only when the RP's pages load the OP's check_session_iframe and post "client_id session_state"
// messages to it before and after logout (OpenID Connect Session Management 1.0 §3-§4), which is
// browser JavaScript of the application, not something a server-side middleware can do. The
// stand-in OP advertises check_session_iframe and returns session_state like the suite's; sso-logout
// ignores both. notes.md has the details.
describe('oidcc-client-test-session-management', () => {
  it.todo('excepted: needs the RP iframe / OP iframe postMessage exchange of Session Management 1.0')
})
